package dev.pktkit.switching;

import dev.pktkit.codec.stats.MicrometerCounters;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.netty.util.internal.ObjectUtil;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Exports the counters of every port of one hub to Micrometer: one binder per hub, meters tagged by hub and port.
 * Ports attached after {@link #bindTo} get their meters when they attach; a port's meters are removed when it
 * detaches, so a registry does not fill with the ports of guests long gone.
 *
 * <p>Meters (all {@code FunctionCounter}s reading the live {@link PortCounters}; the data path does not know
 * Micrometer exists): {@code pktkit.port.frames.in}, {@code pktkit.port.bytes.in}, {@code pktkit.port.frames.out},
 * {@code pktkit.port.bytes.out}, and {@code pktkit.port.drops} with tag {@code reason} ({@code no_route},
 * {@code congested}, ...). Tags: {@code hub} (the hub's name), {@code port} (by default the channel's short id;
 * see {@link #of(AbstractHub, Function, Iterable)}), plus any given.
 *
 * <pre>{@code
 * HubMetrics.of(lan).bindTo(registry);
 * }</pre>
 *
 * <p>Requires {@code io.micrometer:micrometer-core}, an optional dependency of this module: a hub without a
 * binder never loads Micrometer classes.
 */
public final class HubMetrics implements MeterBinder, AutoCloseable {
    /** Prefix of the traffic meters. */
    public static final String TRAFFIC_PREFIX = "pktkit.port";
    /** Name of the drop meter (tag {@code reason}). */
    public static final String DROPS = "pktkit.port.drops";

    private final AbstractHub<?> hub;
    private final Function<? super HubPort, String> portName;
    private final Tags tags;
    private final Map<HubPort, MicrometerCounters[]> bound = new IdentityHashMap<>();
    private final AbstractHub.PortListener listener = new AbstractHub.PortListener() {
        @Override
        public void attached(HubPort port) {
            bind(port);
        }

        @Override
        public void detached(HubPort port) {
            unbind(port);
        }
    };
    private MeterRegistry registry;

    private HubMetrics(AbstractHub<?> hub, Function<? super HubPort, String> portName, Iterable<Tag> tags) {
        this.hub = ObjectUtil.checkNotNull(hub, "hub");
        this.portName = ObjectUtil.checkNotNull(portName, "portName");
        this.tags = Tags.of(tags).and("hub", hub.name());
    }

    /** A binder for {@code hub}, ports tagged with their channel's short id. */
    public static HubMetrics of(AbstractHub<?> hub) {
        return of(hub, p -> p.port().id().asShortText(), Tags.empty());
    }

    /**
     * A binder for {@code hub} whose {@code port} tag is {@code portName(port)} (e.g. a guest's name), with
     * {@code tags} on every meter.
     */
    public static HubMetrics of(AbstractHub<?> hub, Function<? super HubPort, String> portName, Iterable<Tag> tags) {
        return new HubMetrics(hub, portName, tags);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        ObjectUtil.checkNotNull(registry, "registry");
        synchronized (this) {
            if (this.registry != null) {
                throw new IllegalStateException("already bound to a registry");
            }
            this.registry = registry;
        }
        hub.addPortListener(listener); // first, so a port attached while we walk the list is not missed
        for (HubPort p : hub.ports()) {
            bind(p);
        }
    }

    private synchronized void bind(HubPort port) {
        if (registry == null || bound.containsKey(port) || !port.isAttached()) {
            return;
        }
        Tags portTags = tags.and("port", portName.apply(port));
        MicrometerCounters traffic = MicrometerCounters.named(TRAFFIC_PREFIX, port.counters().traffic(), portTags);
        MicrometerCounters drops = MicrometerCounters.tagged(DROPS, port.counters().dropCounters(), "reason",
                portTags);
        traffic.bindTo(registry);
        drops.bindTo(registry);
        bound.put(port, new MicrometerCounters[] {traffic, drops});
        if (!port.isAttached()) {
            unbind(port); // detached while we bound it: its detach event may have come first
        }
    }

    private synchronized void unbind(HubPort port) {
        MicrometerCounters[] m = bound.remove(port);
        if (m != null) {
            for (MicrometerCounters c : m) {
                c.close();
            }
        }
    }

    /** Removes every meter this binder registered and stops following the hub's ports. */
    @Override
    public void close() {
        hub.removePortListener(listener);
        synchronized (this) {
            for (MicrometerCounters[] m : bound.values()) {
                for (MicrometerCounters c : m) {
                    c.close();
                }
            }
            bound.clear();
            registry = null;
        }
    }
}
