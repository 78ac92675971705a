package dev.pktkit.testkit.netns;

import dev.pktkit.testkit.Cleanup;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;

/**
 * Namespaces tied to a test's life: {@link #create()} makes a {@link Netns} that is closed after the test that
 * made it, whether it passed or failed (and, if made in {@code @BeforeAll}, after the class): a {@link Cleanup}
 * for namespaces only.
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
public final class NetnsExtension implements BeforeEachCallback, AfterEachCallback, AfterAllCallback {
    private final Cleanup cleanup = new Cleanup();

    /** A new namespace, closed after the current test (or class). */
    public Netns create() throws IOException, InterruptedException {
        return cleanup.add(Netns.create());
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        cleanup.beforeEach(context);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        cleanup.afterEach(context);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        cleanup.afterAll(context);
    }
}
