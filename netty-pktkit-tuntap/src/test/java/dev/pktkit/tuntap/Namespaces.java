package dev.pktkit.tuntap;

import dev.pktkit.linux.NetNamespace;
import dev.pktkit.testkit.netns.Netns;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The {@link NetNamespace} handle of a test's {@link Netns}, opened once and closed with it. */
final class Namespaces {
    private static final Map<Netns, NetNamespace> HANDLES = new ConcurrentHashMap<>();

    private Namespaces() {
    }

    static NetNamespace handle(Netns ns) {
        return HANDLES.computeIfAbsent(ns, n -> n.closeWith(new Closing(n, NetNamespace.open(n.path()))).handle);
    }

    private record Closing(Netns ns, NetNamespace handle) implements AutoCloseable {
        @Override
        public void close() {
            HANDLES.remove(ns);
            handle.close();
        }
    }
}
