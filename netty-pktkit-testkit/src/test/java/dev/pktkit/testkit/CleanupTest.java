package dev.pktkit.testkit;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Everything added is closed once, last added first; failures do not stop the rest and are all reported. */
class CleanupTest {
    @Test
    void closesEveryKindLastAddedFirst() throws Exception {
        Cleanup cleanup = new Cleanup();
        List<String> order = new ArrayList<>();
        DefaultEventLoopGroup group = cleanup.add(new DefaultEventLoopGroup(1));
        EmbeddedChannel ch = cleanup.add(new EmbeddedChannel());
        DefaultChannelGroup hub = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        EmbeddedChannel member = new EmbeddedChannel();
        hub.add(member);
        assertSame(hub, cleanup.add(hub));
        cleanup.add((AutoCloseable) () -> order.add("first closeable"));
        cleanup.add(() -> order.add("last action"));
        assertThrows(IllegalArgumentException.class, () -> cleanup.add("a string"));

        cleanup.afterEach(null);
        assertEquals(List.of("last action", "first closeable"), order);
        assertFalse(ch.isOpen());
        assertFalse(member.isOpen(), "a group's channels are closed");
        assertTrue(group.isShutdown());

        cleanup.afterEach(null);
        assertEquals(2, order.size(), "each runs once");
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
            throw new IllegalStateException("d");
        });
        Exception e = assertThrows(Exception.class, () -> cleanup.afterAll(null));
        assertEquals("d", e.getMessage(), "the first failure (last added)");
        assertEquals(1, e.getSuppressed().length);
        assertEquals("b", e.getSuppressed()[0].getMessage());
        assertArrayEquals(new Object[] {"c", "a"}, order.toArray());
    }
}
