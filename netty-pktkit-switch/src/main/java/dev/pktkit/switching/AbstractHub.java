package dev.pktkit.switching;

import dev.pktkit.codec.pipe.Attachment;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.pipe.PortConnector;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.EventExecutor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * What L2 and L3 hubs share: a {@link DefaultChannelGroup} whose members are ports.
 *
 * <p>{@link #add(Channel)} attaches a channel as a port (installing the hub's handler on its pipeline);
 * {@link #remove(Object)}, {@link Attachment#detach()} or closing the channel detach it. Everything else of
 * {@link io.netty.channel.group.ChannelGroup} (write to all, matchers, close all) works as usual. Forwarding does
 * not use the group's map: it reads a copy-on-write port array with no lock.
 *
 * @param <P> the port type
 */
public abstract class AbstractHub<P extends HubPort> extends DefaultChannelGroup implements PortConnector {
    private static final HubPort[] NO_PORTS = new HubPort[0];
    private static final AtomicLong IDS = new AtomicLong();

    private final Object portLock = new Object();
    private final int maxPorts;
    /** Makes this hub's handler name unique in a pipeline that also holds another hub's (one channel, two hubs). */
    private final long id = IDS.incrementAndGet();
    /** Copy-on-write: replaced under {@link #portLock}, read without it. */
    private volatile HubPort[] ports = NO_PORTS;

    /** Told about every port attached and detached (the Micrometer binder); rarely more than one. */
    private final java.util.concurrent.CopyOnWriteArrayList<PortListener> listeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    /** The group's executor: futures, timers, and table maintenance off the ports' loops. */
    final EventExecutor hubExecutor;

    protected AbstractHub(Builder<?> b) {
        super(b.name, b.executor, true);
        this.maxPorts = b.maxPorts;
        this.hubExecutor = b.executor;
    }

    /**
     * The options every hub has.
     *
     * @param <B> the concrete builder
     */
    public abstract static class Builder<B extends Builder<B>> {
        String name;
        EventExecutor executor = io.netty.util.concurrent.GlobalEventExecutor.INSTANCE;
        int maxPorts;

        protected Builder(String defaultName, int defaultMaxPorts) {
            this.name = defaultName;
            this.maxPorts = defaultMaxPorts;
        }

        @SuppressWarnings("unchecked")
        private B self() {
            return (B) this;
        }

        /** The group's name, shown in errors and {@code toString}. */
        public B name(String name) {
            this.name = io.netty.util.internal.ObjectUtil.checkNotNull(name, "name");
            return self();
        }

        /** Executor for group futures (and the hub's timers); default {@code GlobalEventExecutor}. */
        public B executor(EventExecutor executor) {
            this.executor = io.netty.util.internal.ObjectUtil.checkNotNull(executor, "executor");
            return self();
        }

        /** Cap on attached ports; attaching beyond it throws {@link IllegalStateException}. */
        public B maxPorts(int maxPorts) {
            this.maxPorts = io.netty.util.internal.ObjectUtil.checkPositive(maxPorts, "maxPorts");
            return self();
        }
    }

    /** Creates the port object for a channel being attached. */
    protected abstract P newPort(Channel channel);

    /** Called after a port left the hub (forget its table entries). */
    protected abstract void portRemoved(P port);

    /** The handler name a hub uses in port pipelines. */
    protected abstract String handlerName();

    /**
     * Attaches {@code channel} as a port and returns it; the same as {@link #add(Channel)} but hands back the
     * attachment.
     *
     * @throws IllegalStateException if the channel is already a port or the hub has {@code maxPorts} ports
     */
    @Override
    public P attach(Channel channel) {
        return attachPort(newPort(channel));
    }

    /**
     * Puts {@code device} on a new {@link PacketPipe} whose other end becomes a port of this hub, both ends on
     * {@code loop} (so device and hub side talk synchronously): the one-call form of opening a cable and
     * attaching its far end. The port is attached when this returns; the cable registers with {@code loop}
     * right after (a registration failure closes it, which detaches the port).
     *
     * <p>The returned port's {@link HubPort#port() channel} is the cable's hub-side end; its
     * {@link dev.pktkit.codec.pipe.PipeChannel#peer() peer} is the device's channel. Unlike a port the caller
     * brought, {@link HubPort#detach()} closes the cable (the device's channel closes with it), and closing the
     * device's channel detaches the port.
     *
     * @param device a handler for the device's end, usually a {@code ChannelInitializer} or an {@code L2Adapter}
     *               (or a {@code Gateway}) for an L2 hub, an L3 device for an L3 hub
     */
    public P attach(EventLoop loop, ChannelHandler device) {
        return attachDevice(loop, device, this::attach);
    }

    /** {@link #attach(EventLoop, ChannelHandler)} with the cable's hub end attached by {@code attach} (options). */
    protected final P attachDevice(EventLoop loop, ChannelHandler device, Function<Channel, P> attach) {
        io.netty.util.internal.ObjectUtil.checkNotNull(loop, "loop");
        io.netty.util.internal.ObjectUtil.checkNotNull(device, "device");
        PacketPipe cable = new PacketPipe();
        P port = attach.apply(cable.b()); // first: a refused attach (full hub) leaves the device unused
        port.closeOnDetach = true;
        try {
            cable.a().pipeline().addLast(device);
        } catch (RuntimeException e) {
            remove(cable.b()); // the cable never registered: nothing else to undo
            throw e;
        }
        cable.register(loop, loop);
        return port;
    }

    /** Attaches a port object made by the subclass (with its options) for its channel. */
    protected final P attachPort(P port) {
        Channel channel = port.channel;
        synchronized (portLock) {
            if (find(channel) != null) {
                throw new IllegalStateException(channel + " is already a port of " + name());
            }
            if (ports.length >= maxPorts) {
                throw new IllegalStateException(name() + " is full: " + maxPorts + " ports");
            }
            HubPort[] next = Arrays.copyOf(ports, ports.length + 1);
            next[ports.length] = port;
            channel.pipeline().addLast(handlerName() + "#" + id, port.ingress);
            ports = next;
        }
        super.add(channel); // group membership, and removal when the channel closes
        for (PortListener l : listeners) {
            l.attached(port);
        }
        if (!channel.isOpen()) {
            remove(channel); // closed while we attached: the group's close listener may have fired already
        }
        return port;
    }

    /**
     * Attaches {@code channel} as a port; returns false if it already was one. A {@link ServerChannel} becomes a
     * plain group member (so {@link #close()} closes a listener with its ports), not a port.
     */
    @Override
    public boolean add(Channel channel) {
        if (channel instanceof ServerChannel) {
            return super.add(channel);
        }
        synchronized (portLock) {
            if (find(channel) != null) {
                return false;
            }
        }
        attach(channel);
        return true;
    }

    /** Detaches the port of {@code o} (a {@link Channel} or channel id); the channel stays open. */
    @Override
    public boolean remove(Object o) {
        boolean inGroup = super.remove(o);
        P removed = null;
        synchronized (portLock) {
            HubPort[] cur = ports;
            for (int i = 0; i < cur.length; i++) {
                HubPort p = cur[i];
                if (p.channel == o || p.channel.id().equals(o)) {
                    HubPort[] next = new HubPort[cur.length - 1];
                    System.arraycopy(cur, 0, next, 0, i);
                    System.arraycopy(cur, i + 1, next, i, cur.length - i - 1);
                    ports = next;
                    p.attached = false;
                    @SuppressWarnings("unchecked")
                    P typed = (P) p;
                    removed = typed;
                    break;
                }
            }
        }
        if (removed != null) {
            portRemoved(removed);
            for (PortListener l : listeners) {
                l.detached(removed);
            }
            if (removed.channel.isOpen()) {
                removed.removeHandler();
            }
            return true;
        }
        return inGroup;
    }

    /** Detaches every port and forgets every member; channels stay open. */
    @Override
    public void clear() {
        for (HubPort p : ports) {
            remove(p.channel);
        }
        super.clear();
    }

    /** The port of {@code channel}, or null. */
    public P port(Channel channel) {
        return find(channel);
    }

    @SuppressWarnings("unchecked")
    private P find(Channel channel) {
        for (HubPort p : ports) {
            if (p.channel == channel) {
                return (P) p;
            }
        }
        return null;
    }

    /** A snapshot of the current ports. */
    @SuppressWarnings("unchecked")
    public List<P> ports() {
        List<P> list = new ArrayList<>();
        for (HubPort p : ports) {
            list.add((P) p);
        }
        return list;
    }

    /** The live copy-on-write array; never modify it. */
    final HubPort[] portArray() {
        return ports;
    }

    public int maxPorts() {
        return maxPorts;
    }

    /** Hears about ports coming and going; called on the thread that attaches or detaches. */
    interface PortListener {
        void attached(HubPort port);

        void detached(HubPort port);
    }

    void addPortListener(PortListener l) {
        listeners.add(l);
    }

    void removePortListener(PortListener l) {
        listeners.remove(l);
    }
}
