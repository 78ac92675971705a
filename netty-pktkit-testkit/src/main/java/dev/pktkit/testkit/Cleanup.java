package dev.pktkit.testkit;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What a test opened, closed after it whether it passed or failed (and, if opened in {@code @BeforeAll}, after the
 * class), last opened first, each close bounded: a {@link Channel} (closed, 10 s at most), a {@link ChannelGroup}
 * such as a hub (closed, 10 s at most), an {@link EventExecutorGroup} (shut down at once, 10 s at most) or any
 * {@link AutoCloseable} (a namespace). A close that fails or does not end in time is a failure; it does not stop
 * the others, and the first failure is thrown with the rest suppressed. What {@code @BeforeAll} added (with a
 * static registration) waits for the end of the class.
 *
 * <pre>{@code
 * @RegisterExtension
 * final Cleanup cleanup = new Cleanup();
 *
 * @Test
 * void pings() throws Exception {
 *     Netns ns = cleanup.add(Netns.create());
 *     MultiThreadIoEventLoopGroup group = cleanup.add(TestLoops.group(TestLoops.EPOLL, 1));
 *     TunChannel tun = cleanup.add(open(group, ns));   // closed before its group, the group before the namespace
 *     ...
 * }
 * }</pre>
 */
public final class Cleanup implements BeforeEachCallback, AfterEachCallback, AfterAllCallback {
    /** A close of something the test opened. */
    public interface Action {
        void run() throws Exception;
    }

    private final List<Action> actions = new ArrayList<>();
    /** How many actions were added before the current test (in {@code @BeforeAll}): they wait for the class. */
    private int classActions;

    /**
     * Closes {@code resource} after the test, before everything added earlier; returns it.
     *
     * @throws IllegalArgumentException if it is none of the kinds above
     */
    public <T> T add(T resource) {
        Action close;
        if (resource instanceof Channel ch) {
            close = () -> await(ch.close(), 10, "closing " + ch);
        } else if (resource instanceof ChannelGroup g) {
            close = () -> await(g.close(), 10, "closing " + g.name());
        } else if (resource instanceof EventExecutorGroup g) {
            close = () -> await(g.shutdownGracefully(0, 10, TimeUnit.SECONDS), 15, "shutting down " + g);
        } else if (resource instanceof AutoCloseable c) {
            close = c::close;
        } else {
            throw new IllegalArgumentException("cannot close " + resource);
        }
        add(close);
        return resource;
    }

    /** Waits for {@code f}; a close that fails or does not end in time is an error. */
    private static void await(Future<?> f, long seconds, String what) throws Exception {
        if (!f.awaitUninterruptibly(seconds, TimeUnit.SECONDS)) {
            throw new TimeoutException(what + ": not done after " + seconds + " s");
        }
        if (!f.isSuccess()) {
            throw new IOException(what + " failed", f.cause());
        }
    }

    /** Runs {@code action} after the test, before everything added earlier. */
    public synchronized void add(Action action) {
        actions.add(action);
    }

    @Override
    public synchronized void beforeEach(ExtensionContext context) {
        classActions = actions.size();
    }

    /** Runs what the test added (not what {@code @BeforeAll} did). */
    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        runFrom(classActions);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        runFrom(0);
    }

    /**
     * Runs the actions from index {@code first} on, last first. An interrupt does not cut the rest short: the flag
     * is cleared before each action (an interrupted {@code waitFor} would leave a namespace behind) and set again at
     * the end.
     */
    private void runFrom(int first) throws Exception {
        List<Action> todo;
        synchronized (this) {
            int from = Math.min(first, actions.size());
            List<Action> tail = actions.subList(from, actions.size());
            todo = new ArrayList<>(tail);
            tail.clear();
            classActions = Math.min(classActions, actions.size());
        }
        boolean interrupted = false;
        Throwable failure = null;
        for (int i = todo.size() - 1; i >= 0; i--) {
            interrupted |= Thread.interrupted();
            try {
                todo.get(i).run();
            } catch (Throwable t) {
                if (failure == null) {
                    failure = t;
                } else {
                    failure.addSuppressed(t);
                }
            }
        }
        if (interrupted || Thread.interrupted()) {
            Thread.currentThread().interrupt();
        }
        if (failure instanceof Exception e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }
}
