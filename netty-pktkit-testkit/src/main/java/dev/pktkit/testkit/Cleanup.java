package dev.pktkit.testkit;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.util.concurrent.EventExecutorGroup;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a test opened, closed after it whether it passed or failed (and, if opened in {@code @BeforeAll}, after the
 * class), last opened first, each close bounded: a {@link Channel} (closed, 10 s at most), a {@link ChannelGroup}
 * such as a hub (closed, 10 s at most), an {@link EventExecutorGroup} (shut down at once, 10 s at most) or any
 * {@link AutoCloseable} (a namespace, a pipe). A failing close does not stop the others; the first failure is
 * thrown with the rest suppressed.
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
public final class Cleanup implements AfterEachCallback, AfterAllCallback {
    /** A close of something the test opened. */
    public interface Action {
        void run() throws Exception;
    }

    private final List<Action> actions = new ArrayList<>();

    /**
     * Closes {@code resource} after the test, before everything added earlier; returns it.
     *
     * @throws IllegalArgumentException if it is none of the kinds above
     */
    public <T> T add(T resource) {
        Action close;
        if (resource instanceof Channel ch) {
            close = () -> ch.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        } else if (resource instanceof ChannelGroup g) {
            close = () -> g.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        } else if (resource instanceof EventExecutorGroup g) {
            close = () -> g.shutdownGracefully(0, 10, TimeUnit.SECONDS).awaitUninterruptibly(15, TimeUnit.SECONDS);
        } else if (resource instanceof AutoCloseable c) {
            close = c::close;
        } else {
            throw new IllegalArgumentException("cannot close " + resource);
        }
        add(close);
        return resource;
    }

    /** Runs {@code action} after the test, before everything added earlier. */
    public synchronized void add(Action action) {
        actions.add(action);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        runAll();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        runAll();
    }

    private void runAll() throws Exception {
        List<Action> all;
        synchronized (this) {
            all = new ArrayList<>(actions);
            actions.clear();
        }
        Exception failure = null;
        for (int i = all.size() - 1; i >= 0; i--) {
            try {
                all.get(i).run();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
