package dev.pktkit.testkit;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Everything added is closed once, last added first, each kind its own way; failures and interrupts do not stop
 * the rest and are reported; what {@code @BeforeAll} added waits for the class.
 */
class CleanupTest {
    @Test
    void closesEveryKindLastAddedFirst() throws Exception {
        Cleanup cleanup = new Cleanup();
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        DefaultEventLoopGroup group = cleanup.add(new DefaultEventLoopGroup(1));
        group.terminationFuture().addListener(f -> order.add("group"));
        EmbeddedChannel ch = cleanup.add(new EmbeddedChannel());
        ch.closeFuture().addListener(f -> order.add("channel"));
        DefaultChannelGroup hub = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        EmbeddedChannel member = new EmbeddedChannel();
        hub.add(member);
        member.closeFuture().addListener(f -> order.add("hub member"));
        assertSame(hub, cleanup.add(hub));
        cleanup.add((AutoCloseable) () -> order.add("closeable"));
        cleanup.add(() -> order.add("action"));
        assertThrows(IllegalArgumentException.class, () -> cleanup.add("a string"));

        cleanup.afterEach(null);
        assertEquals(List.of("action", "closeable", "hub member", "channel", "group"), order);
        assertFalse(ch.isOpen());
        assertTrue(group.isTerminated(), "waited for");

        cleanup.afterEach(null);
        assertEquals(5, order.size(), "each runs once");
    }

    @Test
    void aFailingCloseDoesNotStopTheOthers() {
        Cleanup cleanup = new Cleanup();
        List<String> order = new ArrayList<>();
        cleanup.add(() -> order.add("a"));
        cleanup.add(() -> {
            throw new IOException("b");
        });
        cleanup.add(() -> order.add("c"));
        cleanup.add(() -> {
            throw new AssertionError("d");
        });
        AssertionError e = assertThrows(AssertionError.class, () -> cleanup.afterAll(null));
        assertEquals("d", e.getMessage(), "the first failure (last added), even an Error");
        assertEquals(1, e.getSuppressed().length);
        assertEquals("b", e.getSuppressed()[0].getMessage());
        assertEquals(List.of("c", "a"), order);
    }

    @Test
    void aChannelWhoseCloseFailsIsReported() {
        Cleanup cleanup = new Cleanup();
        EmbeddedChannel ch = new EmbeddedChannel(new io.netty.channel.ChannelOutboundHandlerAdapter() {
            @Override
            public void close(io.netty.channel.ChannelHandlerContext ctx, io.netty.channel.ChannelPromise p) {
                p.setFailure(new IOException("refused"));
            }
        });
        cleanup.add(ch);
        IOException e = assertThrows(IOException.class, () -> cleanup.afterEach(null));
        assertEquals("refused", e.getCause().getMessage());
    }

    @Test
    void anInterruptDoesNotCutTheRestShort() throws Exception {
        Cleanup cleanup = new Cleanup();
        List<Boolean> seen = new ArrayList<>();
        cleanup.add(() -> seen.add(Thread.currentThread().isInterrupted()));
        cleanup.add(() -> Thread.currentThread().interrupt());
        cleanup.afterEach(null);
        assertEquals(List.of(false), seen, "the next close runs with the flag cleared");
        assertTrue(Thread.interrupted(), "and the flag is set again at the end");
    }

    @Test
    void whatBeforeAllAddedWaitsForTheClass() throws Exception {
        Cleanup cleanup = new Cleanup();
        List<String> order = new ArrayList<>();
        cleanup.add(() -> order.add("class"));
        cleanup.beforeEach(null);
        cleanup.add(() -> order.add("test 1"));
        cleanup.afterEach(null);
        cleanup.beforeEach(null);
        cleanup.add(() -> order.add("test 2"));
        cleanup.afterEach(null);
        assertEquals(List.of("test 1", "test 2"), order);
        cleanup.afterAll(null);
        assertEquals(List.of("test 1", "test 2", "class"), order);
    }
}
