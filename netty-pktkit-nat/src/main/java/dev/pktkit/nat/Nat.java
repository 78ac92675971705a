package dev.pktkit.nat;

import dev.pktkit.codec.offload.OffloadPacket;
import dev.pktkit.codec.offload.Offloads;
import dev.pktkit.codec.pipe.Attachment;
import dev.pktkit.codec.pipe.PortConnector;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.nat.alg.AlgConfig;
import dev.pktkit.nat.alg.Algs;
import dev.pktkit.nat.defrag.Defragmenter;
import dev.pktkit.nat.defrag.DefragConfig;
import dev.pktkit.nat.defrag.Fragmenter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.ObjectUtil;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * A packet NAT (NAPT, RFC 4787 / 5382 / 5508 / 7857) as a Netty device between inside ports and one outside
 * channel, all carrying IP packets ({@code ByteBuf}, one IPv4 or IPv6 packet from {@code readerIndex()}).
 *
 * <pre>{@code
 * Nat nat = Nat.create(loop, NatConfig.builder()
 *         .outsideAddresses("203.0.113.1")
 *         .insideAddress("10.0.0.1")
 *         .filtering(Filtering.ENDPOINT_INDEPENDENT)
 *         .build());
 * nat.attachOutside(uplink);                 // a TunChannel, an L3Hub port, a PacketPipe end
 * nat.attach(guestPort);                     // its own namespace
 * nat.attach(tenantPort, "tenant-a");        // a named namespace shared by several ports
 * nat.addPortForward("tenant-a", IpProtocol.TCP, 8080, "10.0.0.2", 80);
 * }</pre>
 *
 * <h2>Threads</h2>
 * One event loop (given to {@link #create}) owns the translation tables: every packet is translated on it. Put
 * the ports on that loop for the allocation-free path; a port registered on another loop works, but each packet
 * it reads is handed over as one task (an allocation) and writes to it go through Netty's cross-loop write. The
 * control methods ({@link #addPortForward}, ...) may be called from any thread and return a future completed on
 * the NAT's loop; {@link #engine()} is for code running on that loop (ALGs, tests).
 *
 * <h2>Ownership</h2>
 * The NAT consumes every {@code ByteBuf} it reads from a port: it forwards it (rewritten in place, so it must
 * not share memory with another reader; a shared buffer is copied first) or drops, releases and counts it. Other
 * messages pass along the port's pipeline untouched. Writes go out with a void promise and are flushed once per
 * read batch; a target that is not writable drops ({@link NatDropReason#CONGESTED}).
 *
 * <h2>Offload state</h2>
 * An {@link OffloadPacket} (from a TUN channel whose codec forwards offload state) is consumed too: an IPv4 NAPT
 * packet keeps its state across the NAT — a partial checksum stays partial (updated for the address only, RFC
 * 1624), a large TCP segment crosses whole — and is written as an {@code OffloadPacket} to a channel marked
 * {@link OffloadPacket#ACCEPTS}, completed in Java for any other. NAT64, IPv6 and fragments are completed first.
 */
public final class Nat implements PortConnector, AutoCloseable {
    /** Name of the NAT's handler in an attached port's pipeline. */
    public static final String HANDLER_NAME = "pktkit-nat";

    private final EventLoop loop;
    private final NatEngine engine;
    private final NatConfig config;
    private final Defragmenter defrag;
    private final Fragmenter fragmenter;
    private final Map<String, Integer> named = new HashMap<>();
    private PortHandler[] ports = new PortHandler[16];
    private PortHandler outside;
    private final List<PortHandler> dirty = new ArrayList<>();
    private final long start = System.nanoTime();
    private final ScheduledFuture<?> ticker;
    private volatile boolean closed;
    private volatile Algs algs;
    private int ipId;
    private long fragmentId = 0x6e617436L;

    private Nat(EventLoop loop, NatConfig config, DefragConfig defragConfig) {
        this.loop = loop;
        this.config = config;
        this.engine = new NatEngine(config, defragConfig != null);
        this.defrag = defragConfig == null ? null : new Defragmenter(defragConfig);
        this.fragmenter = new Fragmenter();
        this.algs = Algs.install(engine, AlgConfig.defaults());
        this.ticker = loop.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    /**
     * A NAT on {@code loop} with defragmentation in front (default {@link DefragConfig}; IPv6 reassembly too
     * when NAT64 is on).
     */
    public static Nat create(EventLoop loop, NatConfig config) {
        return create(loop, config, DefragConfig.builder().ipv6(config.nat64Prefix() != null).build());
    }

    /**
     * A NAT on {@code loop}; {@code defrag} null switches reassembly off (fragments are then dropped as
     * {@link NatDropReason#FRAGMENT}).
     */
    public static Nat create(EventLoop loop, NatConfig config, DefragConfig defrag) {
        return new Nat(ObjectUtil.checkNotNull(loop, "loop"), ObjectUtil.checkNotNull(config, "config"), defrag);
    }

    public EventLoop eventLoop() {
        return loop;
    }

    /** The translator; call it on {@link #eventLoop()} only. */
    public NatEngine engine() {
        return engine;
    }

    public NatConfig config() {
        return config;
    }

    public NatCounters counters() {
        return engine.counters();
    }

    /** The defragmenter in front of the NAT, or null when off; its counters are readable from any thread. */
    public Defragmenter defragmenter() {
        return defrag;
    }

    private void tick() {
        int now = (int) ((System.nanoTime() - start) / 1_000_000_000L);
        engine.tick(now);
        if (defrag != null) {
            defrag.expire(now);
        }
    }

    // =====================================================================================================
    // attaching
    // =====================================================================================================

    /** Attaches an inside port in a namespace of its own, closed with it. */
    @Override
    public Attachment attach(Channel port) {
        return attachInside(port, null);
    }

    /**
     * Attaches an inside port to the named namespace, created on first use. A named namespace outlives its ports
     * (a peer that reconnects finds its mappings) until {@link #closeNamespace}.
     */
    public Attachment attach(Channel port, String namespace) {
        return attachInside(port, ObjectUtil.checkNotNull(namespace, "namespace"));
    }

    /** Attaches the outside channel. @throws IllegalStateException if one is attached */
    public Attachment attachOutside(Channel channel) {
        checkOpen();
        PortHandler h = new PortHandler(channel, true, null);
        runOnLoop(() -> {
            if (outside != null && outside.attached) {
                throw new IllegalStateException("an outside channel is attached already");
            }
            outside = h;
            h.registered = true;
            return null;
        });
        channel.pipeline().addLast(HANDLER_NAME, h);
        return h;
    }

    private Attachment attachInside(Channel channel, String name) {
        checkOpen();
        PortHandler h = new PortHandler(channel, false, name);
        // Registration is queued on the NAT's loop before any packet the port reads, so it always runs first.
        execute(h::register);
        channel.pipeline().addLast(HANDLER_NAME, h);
        return h;
    }

    /** Closes a named namespace: its mappings, forwards and expectations go. Its ports must have left. */
    public Future<Void> closeNamespace(String name) {
        return submit(() -> {
            Integer ns = named.get(name);
            if (ns == null) {
                throw new IllegalArgumentException("no namespace " + name);
            }
            for (PortHandler p : ports) {
                if (p != null && p.registered && p.ns == ns) {
                    throw new IllegalStateException("namespace " + name + " has attached ports");
                }
            }
            named.remove(name);
            engine.closeNamespace(ns);
            return null;
        });
    }

    /** The id of a named namespace (created if new). */
    public Future<Integer> namespace(String name) {
        return submit(() -> namespaceId(name));
    }

    private int namespaceId(String name) {
        Integer ns = named.get(name);
        if (ns == null) {
            ns = engine.openNamespace();
            named.put(name, ns);
        }
        return ns;
    }

    // =====================================================================================================
    // control
    // =====================================================================================================

    /**
     * A port forward: TCP or UDP to {@code outsidePort} on the first outside address reaches
     * {@code insideAddress:insidePort} in the named namespace, from any remote; replies and the host's own
     * outbound traffic from that port use it too. An IPv6 {@code insideAddress} (with NAT64 on) is a host behind
     * NAT64: the forwarded IPv4 traffic reaches it translated (RFC 6146 §3.5).
     */
    public Future<NatMapping> addPortForward(String namespace, int protocol, int outsidePort, String insideAddress,
                                             int insidePort) {
        return addStaticMapping(namespace, protocol, insideAddress, insidePort, null, outsidePort, true);
    }

    /**
     * A static mapping (see {@link NatEngine#addStaticMapping}); filtering still applies unless {@code open}.
     * {@code outsideAddress} null means the first outside address; an IPv6 {@code insideAddress} is a NAT64 host
     * ({@link NatEngine#addStaticMapping6}).
     */
    public Future<NatMapping> addStaticMapping(String namespace, int protocol, String insideAddress, int insidePort,
                                               String outsideAddress, int outsidePort, boolean open) {
        int out = outsideAddress == null ? 0 : Ip4.parse(outsideAddress);
        if (insideAddress.indexOf(':') >= 0) {
            long hi = Ip6.parseHi(insideAddress);
            long lo = Ip6.parseLo(insideAddress);
            return submit(() -> engine.addStaticMapping6(namespaceId(namespace), protocol, hi, lo, insidePort, out,
                    outsidePort, open));
        }
        int in = Ip4.parse(insideAddress);
        return submit(() -> engine.addStaticMapping(namespaceId(namespace), protocol, in, insidePort, out,
                outsidePort, open));
    }

    /** Removes a port forward or static mapping on the first outside address. */
    public Future<Boolean> removePortForward(int protocol, int outsidePort) {
        return submit(() -> engine.removeStaticMapping(protocol, 0, outsidePort));
    }

    /** Address-only translation of other protocols (see {@link NatEngine#addAddressMapping}). */
    public Future<Void> addAddressMapping(String namespace, String insideAddress, String outsideAddress) {
        return submit(() -> {
            engine.addAddressMapping(namespaceId(namespace), Ip4.parse(insideAddress), Ip4.parse(outsideAddress));
            return null;
        });
    }

    public Future<Boolean> removeAddressMapping(String outsideAddress) {
        return submit(() -> engine.removeAddressMapping(Ip4.parse(outsideAddress)));
    }

    /** The running ALGs (at first {@link AlgConfig#defaults()}: FTP and TFTP). */
    public Algs algs() {
        return algs;
    }

    /**
     * Replaces the ALGs ({@code dev.pktkit.nat.alg}): {@link AlgConfig#none()} switches them all off. Control
     * flows tracked so far continue untracked; install before traffic flows.
     */
    public Future<Algs> algs(AlgConfig config) {
        ObjectUtil.checkNotNull(config, "config");
        return submit(() -> {
            Algs a = Algs.install(engine, config);
            algs = a;
            return a;
        });
    }

    /** Snapshot of the mappings. */
    public Future<List<NatMapping>> mappings() {
        return submit(engine::mappings);
    }

    /** Stops the timer and detaches every port (their channels stay open). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        ticker.cancel(false);
        execute(() -> {
            for (PortHandler p : ports) {
                if (p != null) {
                    p.detach();
                }
            }
            if (outside != null) {
                outside.detach();
            }
            if (defrag != null) {
                defrag.clear();
            }
        });
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("NAT closed");
        }
    }

    private <T> Future<T> submit(Callable<T> task) {
        Promise<T> p = loop.newPromise();
        Runnable r = () -> {
            try {
                p.setSuccess(task.call());
            } catch (Throwable t) {
                p.setFailure(t);
            }
        };
        if (loop.inEventLoop()) {
            r.run();
        } else {
            loop.execute(r);
        }
        return p;
    }

    private void runOnLoop(Callable<Void> task) {
        if (loop.inEventLoop()) {
            try {
                task.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        } else {
            Future<Void> f = submit(task);
            f.syncUninterruptibly();
        }
    }

    private void execute(Runnable r) {
        if (loop.inEventLoop()) {
            r.run();
        } else {
            loop.execute(r);
        }
    }

    // =====================================================================================================
    // data path (NAT loop)
    // =====================================================================================================

    private void fromInside(PortHandler from, ByteBuf buf) {
        buf = exclusive(buf);
        if (tooBig(buf, config.outsideMtu, from, true)) {
            return;
        }
        int v = engine.outbound(buf, from.index);
        if (v == NatEngine.REASSEMBLE) {
            // the engine found a fragment (it checks anyway, so non-fragments never pay for the defragmenter)
            buf = defrag.offer(buf, buf.alloc());
            if (buf == null) {
                return; // held for reassembly, or dropped and counted there
            }
            if (tooBig(buf, config.outsideMtu, from, true)) {
                return;
            }
            v = engine.outbound(buf, from.index);
        }
        if (v == NatEngine.NEED_HEADROOM) {
            buf = withHeadroom(buf); // hairpinned to a NAT64 host: the outbound half is done
            v = engine.inbound(buf);
        }
        if (v == NatEngine.TO_OUTSIDE) {
            PortHandler out = outside;
            if (out == null || !out.attached) {
                drop(buf, NatDropReason.NO_ROUTE);
                return;
            }
            send(out, buf, config.outsideMtu);
        } else if (v >= 0) {
            send(ports[v], buf, config.insideMtu);
        } else {
            release(buf, v);
        }
    }

    private void fromOutside(ByteBuf buf) {
        buf = exclusive(buf);
        if (tooBigInside(buf)) {
            return;
        }
        int v = engine.inbound(buf);
        if (v == NatEngine.REASSEMBLE) {
            buf = defrag.offer(buf, buf.alloc());
            if (buf == null) {
                return;
            }
            if (tooBigInside(buf)) {
                return;
            }
            v = engine.inbound(buf);
        }
        if (v == NatEngine.NEED_HEADROOM) {
            buf = withHeadroom(buf);
            v = engine.inbound(buf);
        }
        if (v >= 0) {
            send(ports[v], buf, config.insideMtu);
        } else {
            release(buf, v);
        }
    }

    /**
     * A packet with offload state ({@link OffloadPacket}: a partial checksum, a large TCP segment) from a port. An
     * IPv4 NAPT packet is translated with its state kept: the partial checksum updated for the address only
     * ({@code partialChecksum}), a large segment not held to the MTU (the egress cuts it); it goes on with the same
     * state to a channel that takes it ({@link OffloadPacket#ACCEPTS}), else completed in Java. Anything else
     * (NAT64, IPv6, fragments, shared memory, a packet without state to keep) is completed first and takes the
     * plain path.
     */
    private void fromPort(PortHandler from, OffloadPacket op) {
        ByteBuf c = op.content();
        int off = c.readerIndex();
        boolean keep = (op.needsChecksum() || op.isGso()) && c.readableBytes() >= Ipv4.MIN_HEADER_LENGTH
                && c.getUnsignedByte(off) >>> 4 == 4 && (c.getUnsignedShort(off + 6) & 0x3FFF) == 0
                && c.refCnt() == 1 && !c.isReadOnly() && c.unwrap() == null;
        if (keep && !op.isGso() && tooBig(c, from.isOutside ? config.insideMtu : config.outsideMtu,
                from.isOutside ? outside : from, !from.isOutside)) {
            return;
        }
        int v = !keep ? NatEngine.DROP : from.isOutside ? engine.inbound(c, op.needsChecksum())
                : engine.outbound(c, from.index, op.needsChecksum());
        if (keep && (v == NatEngine.TO_OUTSIDE || v >= 0)) {
            sendKept(v == NatEngine.TO_OUTSIDE ? outside : ports[v], op,
                    v == NatEngine.TO_OUTSIDE ? config.outsideMtu : config.insideMtu);
            return;
        }
        if (keep && v == NatEngine.DROP) {
            op.release(); // counted by the engine
            return;
        }
        // not kept, or the engine wants the plain path (REASSEMBLE: nothing changed; NEED_HEADROOM: a NAT64 host)
        ByteBuf plain = Offloads.complete(op, c.alloc(), false);
        if (plain == null) {
            engine.counters().drop(NatDropReason.MALFORMED);
            return;
        }
        if (v == NatEngine.NEED_HEADROOM && !from.isOutside) {
            plain = withHeadroom(plain); // hairpinned to a NAT64 host: the outbound half is done
            int p = engine.inbound(plain);
            if (p >= 0) {
                send(ports[p], plain, config.insideMtu);
            } else {
                release(plain, p);
            }
        } else if (from.isOutside) {
            fromOutside(plain);
        } else {
            fromInside(from, plain);
        }
    }

    /** Sends a translated packet with its offload state, or completed for a channel that wants plain packets. */
    private void sendKept(PortHandler to, OffloadPacket op, int mtu) {
        if (to == null || !to.attached) {
            engine.counters().drop(NatDropReason.NO_ROUTE);
            op.release();
            return;
        }
        Channel ch = to.channel;
        if (!OffloadPacket.acceptedBy(ch) || (!op.isGso() && op.content().readableBytes() > mtu)) {
            ByteBuf plain = Offloads.complete(op, ch.alloc(), false);
            if (plain == null) {
                engine.counters().drop(NatDropReason.MALFORMED);
                return;
            }
            send(to, plain, mtu);
            return;
        }
        if (!ch.isWritable()) {
            engine.counters().drop(NatDropReason.CONGESTED);
            op.release();
            return;
        }
        ch.write(op, ch.voidPromise());
        if (!to.dirty) {
            to.dirty = true;
            dirty.add(to);
        }
    }

    /** Releases a packet the engine did not forward; a second {@code REASSEMBLE} (cannot happen) counts as a fragment. */
    private void release(ByteBuf buf, int verdict) {
        if (verdict == NatEngine.REASSEMBLE) {
            engine.counters().drop(NatDropReason.FRAGMENT);
        }
        buf.release();
    }

    private boolean tooBigInside(ByteBuf buf) {
        if (tooBig(buf, config.insideMtu, outside, false)) {
            return true;
        }
        // RFC 7915 §4: DF set and too big once translated: fragmentation needed with the MTU minus 20
        return buf.readableBytes() + 20 > config.insideMtu && config.nat64Prefix() != null
                && engine.isNat64Inbound(buf) && tooBig(buf, config.insideMtu - 20, outside, false);
    }

    /** A copy of the packet with {@link NatEngine#NAT64_HEADROOM} bytes before it (one allocation). */
    private static ByteBuf withHeadroom(ByteBuf buf) {
        ByteBuf roomy = buf.alloc().buffer(NatEngine.NAT64_HEADROOM + buf.readableBytes());
        roomy.setIndex(NatEngine.NAT64_HEADROOM, NatEngine.NAT64_HEADROOM);
        roomy.writeBytes(buf, buf.readerIndex(), buf.readableBytes());
        buf.release();
        return roomy;
    }

    private static ByteBuf exclusive(ByteBuf buf) {
        if (buf.refCnt() == 1 && !(buf.isReadOnly()) && buf.unwrap() == null) {
            return buf;
        }
        ByteBuf copy = buf.alloc().buffer(buf.readableBytes());
        copy.writeBytes(buf, buf.readerIndex(), buf.readableBytes());
        buf.release();
        return copy;
    }

    /**
     * An IPv4 packet above {@code mtu} with DF set is refused with ICMP fragmentation needed (from the NAT's
     * inside address towards the inside, from the first outside address towards the outside), before translation
     * so that the error quotes the packet as its sender wrote it.
     */
    private boolean tooBig(ByteBuf buf, int mtu, PortHandler from, boolean fromInside) {
        int off = buf.readerIndex();
        if (buf.readableBytes() <= mtu || buf.getUnsignedByte(off) >>> 4 != 4 || buf.readableBytes() < 20
                || Ipv4.totalLength(buf, off) <= mtu || !Ipv4.dontFragment(buf, off)) {
            return false;
        }
        int src = fromInside ? config.insideAddress : config.outsideAddresses[0];
        if (src != 0 && Icmpv4.isErrorAllowed(buf, off) && from != null && from.attached) {
            ByteBuf err = buf.alloc().buffer(Icmpv4.MAX_ERROR_DATAGRAM);
            if (Icmpv4.writeDestinationUnreachablePacket(err, src, Icmpv4.CODE_FRAGMENTATION_NEEDED, mtu, buf, off,
                    ipId++ & 0xFFFF) > 0) {
                Ipv4.fillChecksum(err, err.readerIndex());
                send(from, err, Integer.MAX_VALUE);
            } else {
                err.release();
            }
        }
        drop(buf, NatDropReason.TOO_BIG);
        return true;
    }

    private void send(PortHandler to, ByteBuf buf, int mtu) {
        if (to == null || !to.attached) {
            drop(buf, NatDropReason.NO_ROUTE);
            return;
        }
        Channel ch = to.channel;
        if (!ch.isWritable()) {
            drop(buf, NatDropReason.CONGESTED);
            return;
        }
        int version = buf.readableBytes() > mtu ? buf.getUnsignedByte(buf.readerIndex()) >>> 4 : 0;
        if (version == 4) {
            fragmenter.fragment(buf, mtu, to.sink);
        } else if (version == 6 && !to.isOutside && config.nat64Prefix() != null) {
            fragmenter.fragment6(buf, mtu, fragmentId++, to.sink);
        } else {
            ch.write(buf, ch.voidPromise());
        }
        if (!to.dirty) {
            to.dirty = true;
            dirty.add(to);
        }
    }

    private void drop(ByteBuf buf, NatDropReason reason) {
        engine.counters().drop(reason);
        buf.release();
    }

    private void flushDirty() {
        for (int i = 0; i < dirty.size(); i++) {
            PortHandler p = dirty.get(i);
            p.dirty = false;
            p.channel.flush();
        }
        dirty.clear();
    }

    /** The NAT's handler in one port's pipeline, and the port's {@link Attachment}. */
    private final class PortHandler extends ChannelInboundHandlerAdapter implements Attachment {
        final Channel channel;
        final boolean isOutside;
        final String name;
        final Fragmenter.Sink sink;
        int index = -1;
        int ns = -1;
        volatile boolean attached = true;
        boolean registered;
        boolean dirty;
        private final Promise<Void> detached;

        PortHandler(Channel channel, boolean isOutside, String name) {
            this.channel = ObjectUtil.checkNotNull(channel, "channel");
            this.isOutside = isOutside;
            this.name = name;
            this.detached = loop.newPromise();
            this.sink = frag -> channel.write(frag, channel.voidPromise());
        }

        void register() {
            if (!attached) {
                return;
            }
            ns = name == null ? engine.openNamespace() : namespaceId(name);
            index = engine.addPort(ns);
            if (index >= ports.length) {
                ports = java.util.Arrays.copyOf(ports, Math.max(ports.length * 2, index + 1));
            }
            ports[index] = this;
            registered = true;
        }

        void unregister() {
            if (isOutside) {
                if (outside == this) {
                    outside = null;
                }
            } else if (registered) {
                registered = false;
                engine.removePort(index);
                ports[index] = null;
                if (name == null) {
                    engine.closeNamespace(ns);
                }
            }
            detached.trySuccess(null);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf) && !(msg instanceof OffloadPacket)) {
                ctx.fireChannelRead(msg);
                return;
            }
            if (loop.inEventLoop()) {
                handle(msg);
            } else {
                loop.execute(() -> {
                    handle(msg);
                    flushDirty();
                });
            }
        }

        private void handle(Object msg) {
            if (!attached || (!isOutside && !registered)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            try {
                if (msg instanceof OffloadPacket op) {
                    fromPort(this, op);
                } else if (isOutside) {
                    fromOutside((ByteBuf) msg);
                } else {
                    fromInside(this, (ByteBuf) msg);
                }
            } catch (RuntimeException e) {
                // a bug, not bad input (the translator validates first): count it, never throw into the pipeline
                engine.counters().drop(NatDropReason.MALFORMED);
                ReferenceCountUtil.safeRelease(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (loop.inEventLoop()) {
                flushDirty();
            }
            ctx.fireChannelReadComplete();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            attached = false;
            execute(this::unregister);
        }

        @Override
        public Channel port() {
            return channel;
        }

        @Override
        public boolean isAttached() {
            return attached;
        }

        @Override
        public Future<Void> detach() {
            if (attached) {
                attached = false;
                if (channel.eventLoop().inEventLoop()) {
                    removeSelf();
                } else {
                    channel.eventLoop().execute(this::removeSelf);
                }
            }
            return detached;
        }

        private void removeSelf() {
            if (channel.pipeline().context(this) != null) {
                channel.pipeline().remove(this);
            } else {
                execute(this::unregister);
            }
        }
    }
}
