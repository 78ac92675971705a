package dev.pktkit.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reported a buffer leak while it ran. Registered for every test class through
 * JUnit's extension auto-detection (see {@code junit-platform.properties} in this jar).
 */
public final class LeakCheckExtension implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(LeakCheckExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        LeakGuard.install();
        context.getStore(NS).put("before", LeakGuard.collect());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        int before = context.getStore(NS).getOrDefault("before", Integer.class, 0);
        int after = LeakGuard.collect();
        if (after > before) {
            throw new AssertionError((after - before) + " ByteBuf leak(s) reported while "
                    + context.getDisplayName() + " ran:\n" + String.join("\n----\n", LeakGuard.reports()));
        }
    }
}
