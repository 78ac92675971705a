package dev.pktkit.testkit.netns;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Namespaces tied to a test's life: {@link #create()} makes a {@link Netns} that is closed after the test that
 * made it, whether it passed or failed (and, if made in {@code @BeforeAll}, after the class).
 *
 * <pre>{@code
 * @RegisterExtension
 * final NetnsExtension netns = new NetnsExtension();
 *
 * @Test
 * void pings() throws Exception {
 *     Netns.assumeUsable();
 *     Netns a = netns.create();
 *     ...
 * }
 * }</pre>
 */
public final class NetnsExtension implements AfterEachCallback, AfterAllCallback {
    private final List<Netns> created = new ArrayList<>();

    /** A new namespace, closed after the current test (or class). */
    public synchronized Netns create() throws IOException, InterruptedException {
        Netns ns = Netns.create();
        created.add(ns);
        return ns;
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        closeAll();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        closeAll();
    }

    private void closeAll() throws Exception {
        List<Netns> all;
        synchronized (this) {
            all = new ArrayList<>(created);
            created.clear();
        }
        Exception failure = null;
        for (int i = all.size() - 1; i >= 0; i--) {
            try {
                all.get(i).close();
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
