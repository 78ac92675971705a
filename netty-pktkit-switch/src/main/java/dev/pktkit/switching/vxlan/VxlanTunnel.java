package dev.pktkit.switching.vxlan;

import dev.pktkit.codec.stats.EnumCounters;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.switching.L2Port;
import dev.pktkit.switching.L2PortOptions;
import dev.pktkit.switching.lpm.Prefix;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.concurrent.Ticker;
import io.netty.util.internal.ObjectUtil;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * A VXLAN (RFC 7348) uplink: the handler of a UDP {@link DatagramChannel} whose VNIs become ports of
 * {@link L2Hub}s, so that one virtual LAN spans several machines.
 *
 * <pre>{@code
 * L2Hub lan = L2Hub.builder().name("lan").build();
 * VxlanTunnel vxlan = VxlanTunnel.builder()
 *         .vni(42, lan)                                  // VNI 42 is a port of lan
 *         .peer(42, "192.0.2.2")                         // a remote VTEP: flood target, accepted source
 *         .acceptFrom("192.0.2.0/24")                    // VTEPs learned from this prefix are accepted too
 *         .build();
 * Channel udp = new Bootstrap().group(group).channel(NioDatagramChannel.class)
 *         .handler(vxlan).bind(4789).sync().channel();
 * vxlan.ready().sync();                                 // the VNI ports are attached
 * }</pre>
 *
 * <h2>What it does</h2>
 * <ul>
 *   <li><b>Ports.</b> When the UDP channel becomes active, each VNI gets a {@link dev.pktkit.codec.pipe.PacketPipe}
 *       cable on the channel's event loop whose far end is a port of the VNI's hub (one hub per VNI by default;
 *       several VNIs may name the same hub, which then bridges them). {@link Builder#trunk} instead carries
 *       several VNIs over one trunk port of one hub, VNI ↔ VLAN, tags added on decapsulation and removed on
 *       encapsulation. Closing the UDP channel detaches the ports.</li>
 *   <li><b>Decapsulation.</b> A datagram is accepted only from a configured peer or from inside an
 *       {@link Builder#acceptFrom accepted prefix} (such a VTEP is learned, up to {@link Builder#maxVteps}); it
 *       must hold a header with the I flag and a VNI this tunnel carries, and an inner frame of 14 bytes up to
 *       the MTU's size. The inner source MAC is learned (VNI, MAC) → sending VTEP (flood-and-learn), the
 *       datagram's buffer is passed on as the frame (no copy) into the VNI's port.</li>
 *   <li><b>Encapsulation.</b> A frame the hub sends to a VNI's port goes to the VTEP learned (or statically set,
 *       {@link Builder#staticEntry}) for its destination MAC; broadcast, multicast and unknown unicast go by
 *       head-end replication to every configured peer of the VNI (one copy of the frame, one datagram per peer
 *       sharing it). Destination port: {@link Builder#remotePort} (4789).</li>
 *   <li><b>Source port.</b> Fixed by default: the channel's own local port. {@link Builder#sourcePortPool} binds
 *       more sockets on the same loop (ephemeral ports) and picks one per frame by a hash of the inner flow (MACs,
 *       EtherType, IPv4/IPv6 addresses, TCP/UDP ports), so that the underlay's ECMP can spread flows.</li>
 *   <li><b>Underlay.</b> IPv4 or IPv6: whatever the channel is bound to; a dual-stack socket (bound to
 *       {@code ::}) reaches both. A peer's address family must be one the socket can send to.</li>
 *   <li><b>MTU.</b> The tunnel never fragments (RFC 7348 §4.3): an inner frame larger than
 *       {@link Builder#mtu} + 18 bytes (Ethernet header and one VLAN tag) is dropped on either side. Set the MTU
 *       to the underlay's MTU minus {@link Vxlan#IPV4_OVERHEAD} (1450 on a 1500-byte IPv4 underlay, the default
 *       and what the kernel's vxlan device picks) or {@link Vxlan#IPV6_OVERHEAD} (1430 over IPv6). The socket
 *       leaves the kernel's default path-MTU discovery on (Linux: DF set, {@code IP_PMTUDISC_WANT}). Netty's
 *       default datagram receive buffer is 2048 bytes: for a larger MTU, set the channel's
 *       {@code RCVBUF_ALLOCATOR}.</li>
 *   <li><b>Bad input</b> — short datagrams, a clear I flag, unknown VNIs, unknown sources, oversized frames —
 *       is dropped, released and counted ({@link #drops()}); nothing reaches the pipeline's tail.</li>
 *   <li><b>Bounds.</b> The MAC table ({@link Builder#maxMacEntries}, 8192) and the learned VTEPs
 *       ({@link Builder#maxVteps}, 1024) are capped; a full table does not learn (the frame still goes through,
 *       {@link VxlanTraffic#LEARN_REFUSED}). Entries age out after {@link Builder#agingTime} (5 minutes) without
 *       traffic; a learned VTEP ages out with its entries.</li>
 * </ul>
 *
 * <h2>Threads and ownership</h2>
 * All state lives on the UDP channel's event loop (the VNI cables are registered there too): no locks, and no
 * allocation per frame (pooled buffers; sent datagrams use a recycled envelope). Decapsulation hands the received
 * buffer on; encapsulation copies the frame once into a pooled buffer behind the 8-byte header (a frame from a
 * hub may share memory with other ports) and releases the frame. (Netty's UDP transports themselves allocate a
 * {@link DatagramPacket} and the sender's address per received datagram, before this handler.) Writes
 * are flushed once per read batch. The query methods ({@link #fdb()}, {@link #vteps()}, {@link #tick()}) run on
 * the loop and may be called from any thread.
 *
 * <p>One tunnel per UDP channel (not {@code @Sharable}).
 *
 * <p>Not done: multicast underlay groups (flooding is head-end replication only), flooding to learned VTEPs,
 * VXLAN-GPE/GBP extensions (their flag bits are ignored as reserved), and offload state (frames are complete).
 */
public final class VxlanTunnel extends ChannelInboundHandlerAdapter {
    /** Default inner MTU: a 1500-byte IPv4 underlay minus {@link Vxlan#IPV4_OVERHEAD}. */
    public static final int DEFAULT_MTU = 1450;
    /** Default cap on (VNI, MAC) entries. */
    public static final int DEFAULT_MAX_MAC_ENTRIES = 8192;
    /** Default cap on VTEPs learned from accepted prefixes. */
    public static final int DEFAULT_MAX_VTEPS = 1024;
    /** Default aging time of learned entries and VTEPs. */
    public static final Duration DEFAULT_AGING_TIME = Duration.ofMinutes(5);
    private static final int ETH = 14;
    /** Whether Netty copies direct to direct memory without a ByteBuffer duplicate (it does with Unsafe). */
    private static final boolean BULK_DIRECT_COPY = io.netty.util.internal.PlatformDependent.hasUnsafe();
    private static final int TAG = 4;

    private final Builder config;
    private final int maxFrame;
    private final long agingNanos;
    private final Ticker ticker;
    private final Prefix[] accepted;
    private final EnumCounters<VxlanDropReason> drops = EnumCounters.of(VxlanDropReason.class);
    private final EnumCounters<VxlanTraffic> traffic = EnumCounters.of(VxlanTraffic.class);
    private final Promise<Void> ready = ImmediateEventExecutor.INSTANCE.newPromise();

    // ---- loop-confined state ----
    private final IntObjectHashMap<Segment> segments = new IntObjectHashMap<>();
    private final HashMap<InetAddress, Vtep> vteps = new HashMap<>();
    private final VtepFdb fdb;
    private final List<Device> devices = new ArrayList<>();
    private int learnedVteps;
    private volatile Channel udp;
    private Channel[] senders = new Channel[0];
    private boolean[] sendersDirty = new boolean[0];
    private volatile EventLoop loop;
    private ScheduledFuture<?> agingTask;
    private long now;

    private VxlanTunnel(Builder b) {
        this.config = b;
        this.maxFrame = b.mtu + ETH + TAG;
        this.agingNanos = b.agingTime.toNanos();
        this.ticker = b.ticker;
        this.accepted = b.accepted.toArray(new Prefix[0]);
        this.fdb = new VtepFdb(b.maxMacEntries);
        this.now = ticker.nanoTime();
        for (Map.Entry<Integer, List<InetAddress>> e : b.peers.entrySet()) {
            for (InetAddress a : e.getValue()) {
                vteps.computeIfAbsent(a, x -> new Vtep(x, b.remotePort, true, now));
            }
        }
        for (StaticEntry s : b.statics) {
            Vtep v = vteps.computeIfAbsent(s.vtep, x -> new Vtep(x, b.remotePort, true, now));
            fdb.putStatic(VtepFdb.key(s.vni, s.mac), v);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Completes when the VNI ports are attached to their hubs (after the UDP channel became active). */
    public Future<Void> ready() {
        return ready;
    }

    /** Drops by reason. */
    public EnumCounters<VxlanDropReason> drops() {
        return drops;
    }

    /** Frames and datagrams moved, learning events. */
    public EnumCounters<VxlanTraffic> traffic() {
        return traffic;
    }

    /** The hub port of {@code vni} (in trunk mode the shared trunk port), or null before {@link #ready()}. */
    public L2Port port(int vni) {
        return onLoop(() -> {
            Segment s = segments.get(vni);
            return s != null ? s.device.port : null;
        });
    }

    /** The MAC table: one {@code vni mac vtep [static]} line per live entry. */
    public List<String> fdb() {
        return onLoop(() -> fdb.rows(now, agingNanos));
    }

    /** Entries in the MAC table (approximate off the loop). */
    public int macEntries() {
        return fdb.size();
    }

    /** The remote VTEPs known now: configured peers and learned ones. */
    public List<Vtep> vteps() {
        return onLoop(() -> new ArrayList<>(vteps.values()));
    }

    /** The UDP channels the tunnel sends from: its own first, then the source-port pool's. */
    public List<Channel> channels() {
        return onLoop(() -> List.of(senders));
    }

    /**
     * Advances the coarse clock and removes aged entries and learned VTEPs; returns how many MAC entries went.
     * Runs every {@link Builder#tickInterval} on the loop; tests with a mock ticker call it.
     */
    public int tick() {
        return onLoop(this::tick0);
    }

    private int tick0() {
        now = ticker.nanoTime();
        boolean vtepGone = false;
        for (java.util.Iterator<Vtep> it = vteps.values().iterator(); it.hasNext(); ) {
            Vtep v = it.next();
            if (!v.isConfigured() && now - v.lastSeen >= agingNanos) {
                v.live = false;
                it.remove();
                learnedVteps--;
                vtepGone = true;
            }
        }
        int removed = fdb.sweep(now, agingNanos);
        if (removed > 0 || vtepGone) {
            traffic.add(VxlanTraffic.AGED, removed);
        }
        return removed;
    }

    private <T> T onLoop(Callable<T> task) {
        EventLoop l = loop;
        try {
            if (l == null || l.inEventLoop()) {
                return task.call();
            }
            return l.submit(task).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (Exception e) {
            throw new IllegalStateException("tunnel query failed", e);
        }
    }

    // ------------------------------------------------------------------------------------------------ lifecycle

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        udp = ctx.channel();
        loop = udp.eventLoop();
        now = ticker.nanoTime();
        senders = new Channel[] {udp};
        sendersDirty = new boolean[1];
        try {
            attachPorts();
        } catch (RuntimeException e) {
            ready.tryFailure(e);
            throw e;
        }
        if (!config.tickInterval.isZero()) {
            long every = config.tickInterval.toNanos();
            agingTask = loop.scheduleAtFixedRate(this::tick0, every, every, TimeUnit.NANOSECONDS);
        }
        openPool(ctx);
        ctx.fireChannelActive();
    }

    private void attachPorts() {
        if (config.trunkHub != null) {
            int[] vids = config.trunkVids.values().stream().mapToInt(Integer::intValue).toArray();
            Device d = new Device(new Segment[4096]);
            for (Map.Entry<Integer, Integer> e : config.trunkVids.entrySet()) {
                Segment s = new Segment(e.getKey(), e.getValue(), floodList(e.getKey()), d);
                d.byVid[e.getValue()] = s;
                segments.put(e.getKey(), s);
            }
            devices.add(d);
            d.port = config.trunkHub.attach(loop, d, L2PortOptions.trunk(0, vids));
        }
        for (Map.Entry<Integer, L2Hub> e : config.hubs.entrySet()) {
            Device d = new Device(null);
            Segment s = new Segment(e.getKey(), 0, floodList(e.getKey()), d);
            d.single = s;
            segments.put(e.getKey(), s);
            devices.add(d);
            d.port = e.getValue().attach(loop, d, config.portOptions);
        }
    }

    private Vtep[] floodList(int vni) {
        List<InetAddress> addrs = config.peers.getOrDefault(vni, List.of());
        Vtep[] list = new Vtep[addrs.size()];
        for (int i = 0; i < list.length; i++) {
            list[i] = vteps.get(addrs.get(i));
        }
        return list;
    }

    private void openPool(ChannelHandlerContext ctx) {
        int extra = config.poolSize - 1;
        if (extra <= 0) {
            ready.trySuccess(null);
            return;
        }
        @SuppressWarnings("unchecked")
        ChannelFactory<? extends Channel> factory = config.poolFactory != null ? config.poolFactory
                : new io.netty.channel.ReflectiveChannelFactory<>(udp.getClass());
        InetAddress local = ((InetSocketAddress) udp.localAddress()).getAddress();
        int[] pending = {extra};
        ChannelHandler receiver = new PoolReceiver();
        for (int i = 0; i < extra; i++) {
            ChannelFuture f = new Bootstrap().group(loop).channelFactory(factory).handler(receiver)
                    .bind(new InetSocketAddress(local, 0));
            f.addListener(done -> {
                if (done.isSuccess() && udp.isActive()) {
                    Channel c = f.channel();
                    Channel[] next = Arrays.copyOf(senders, senders.length + 1);
                    next[senders.length] = c;
                    senders = next;
                    sendersDirty = new boolean[next.length];
                    udp.closeFuture().addListener(x -> c.close());
                } else if (!done.isSuccess()) {
                    ready.tryFailure(done.cause());
                } else {
                    f.channel().close();
                }
                if (--pending[0] == 0) {
                    ready.trySuccess(null);
                }
            });
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (agingTask != null) {
            agingTask.cancel(false);
        }
        for (Device d : devices) {
            if (d.port != null) {
                d.port.detach();
            }
        }
        for (int i = 1; i < senders.length; i++) {
            senders[i].close();
        }
        ready.tryFailure(new IllegalStateException("the tunnel's channel closed"));
        ctx.fireChannelInactive();
    }

    // ------------------------------------------------------------------------------------------- decapsulation

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        decapsulate(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flushDevices();
        ctx.fireChannelReadComplete();
    }

    private void decapsulate(Object msg) {
        if (!(msg instanceof DatagramPacket packet)) {
            drop(msg, VxlanDropReason.NOT_A_FRAME);
            return;
        }
        ByteBuf buf = packet.content();
        InetSocketAddress sender = packet.sender();
        Vtep vtep = sender != null ? vteps.get(sender.getAddress()) : null;
        if (vtep == null && (vtep = admit(sender)) == null) {
            drop(packet, VxlanDropReason.UNKNOWN_SOURCE);
            return;
        }
        int off = buf.readerIndex();
        int len = buf.readableBytes();
        if (len < Vxlan.HEADER_LENGTH + ETH) {
            drop(packet, VxlanDropReason.TOO_SHORT);
            return;
        }
        if (!Vxlan.hasVni(buf, off)) {
            drop(packet, VxlanDropReason.BAD_FLAGS);
            return;
        }
        Segment seg = segments.get(Vxlan.vni(buf, off));
        if (seg == null) {
            drop(packet, VxlanDropReason.UNKNOWN_VNI);
            return;
        }
        int frameLen = len - Vxlan.HEADER_LENGTH;
        if (frameLen > maxFrame) {
            drop(packet, VxlanDropReason.BAD_SIZE);
            return;
        }
        Device dev = seg.device;
        Channel port = dev.channel;
        if (port == null || !port.isActive()) {
            drop(packet, VxlanDropReason.INACTIVE);
            return;
        }
        if (!port.isWritable()) {
            drop(packet, VxlanDropReason.CONGESTED);
            return;
        }
        vtep.lastSeen = now;
        int frame = off + Vxlan.HEADER_LENGTH;
        long src = buf.getUnsignedInt(frame + 6) << 16 | buf.getUnsignedShort(frame + 10);
        if ((src & 0x0100_0000_0000L) == 0) { // unicast source: learn it
            switch (fdb.learn(VtepFdb.key(seg.vni, src), vtep, now)) {
                case VtepFdb.NEW -> traffic.increment(VxlanTraffic.LEARNED);
                case VtepFdb.MOVED -> traffic.increment(VxlanTraffic.MOVED);
                case VtepFdb.FULL -> traffic.increment(VxlanTraffic.LEARN_REFUSED);
                default -> {
                }
            }
        }
        if (seg.vid != 0) {
            // trunk: insert the VNI's tag in place, moving the MACs into the header's room
            long macs = buf.getLong(frame);
            int macsTail = buf.getInt(frame + 8);
            frame -= TAG;
            buf.setLong(frame, macs);
            buf.setInt(frame + 8, macsTail);
            buf.setShort(frame + 12, dev.tpid);
            buf.setShort(frame + 14, seg.vid);
        }
        buf.readerIndex(frame);
        traffic.increment(VxlanTraffic.DECAPSULATED);
        port.write(buf, port.voidPromise());
        dev.dirty = true;
    }

    /** A sender not yet known: learned if inside an accepted prefix and the VTEP table has room. */
    private Vtep admit(InetSocketAddress sender) {
        if (sender == null || accepted.length == 0 || learnedVteps >= config.maxVteps) {
            return null;
        }
        InetAddress a = sender.getAddress();
        boolean ok = false;
        if (a instanceof Inet4Address) {
            int v4 = a.hashCode(); // Inet4Address's hash is its address
            for (Prefix p : accepted) {
                ok |= !p.isIpv6() && p.contains(v4);
            }
        } else {
            byte[] b = a.getAddress();
            long hi = 0;
            long lo = 0;
            for (int i = 0; i < 8; i++) {
                hi = hi << 8 | (b[i] & 0xFF);
                lo = lo << 8 | (b[i + 8] & 0xFF);
            }
            for (Prefix p : accepted) {
                ok |= p.isIpv6() && p.contains(hi, lo);
            }
        }
        if (!ok) {
            return null;
        }
        Vtep v = new Vtep(a, config.remotePort, false, now);
        vteps.put(a, v);
        learnedVteps++;
        traffic.increment(VxlanTraffic.VTEPS_LEARNED);
        return v;
    }

    private void flushDevices() {
        for (int i = 0, n = devices.size(); i < n; i++) {
            Device d = devices.get(i);
            if (d.dirty) {
                d.dirty = false;
                d.channel.flush();
            }
        }
    }

    private void drop(Object msg, VxlanDropReason reason) {
        drops.increment(reason);
        ReferenceCountUtil.release(msg);
    }

    // ------------------------------------------------------------------------------------------- encapsulation

    /** Encapsulates one frame from {@code dev}'s hub port. */
    private void encapsulate(Device dev, Object msg) {
        if (!(msg instanceof ByteBuf frame)) {
            drop(msg, VxlanDropReason.NOT_A_FRAME);
            return;
        }
        Channel out = udp;
        if (out == null || !out.isActive()) {
            drop(frame, VxlanDropReason.INACTIVE);
            return;
        }
        int off = frame.readerIndex();
        int len = frame.readableBytes();
        if (len < ETH || len > maxFrame) {
            drop(frame, VxlanDropReason.BAD_SIZE);
            return;
        }
        Segment seg = dev.single;
        int strip = 0;
        if (seg == null) { // trunk port: the tag names the VNI
            if (frame.getUnsignedShort(off + 12) != dev.tpid || len < ETH + TAG) {
                drop(frame, VxlanDropReason.VLAN);
                return;
            }
            seg = dev.byVid[frame.getUnsignedShort(off + 14) & 0xFFF];
            if (seg == null) {
                drop(frame, VxlanDropReason.VLAN);
                return;
            }
            strip = TAG;
        }
        long dst = frame.getUnsignedInt(off) << 16 | frame.getUnsignedShort(off + 4);
        Vtep target = null;
        if ((dst & 0x0100_0000_0000L) == 0) {
            target = fdb.lookup(VtepFdb.key(seg.vni, dst), now, agingNanos);
        }
        Vtep[] flood = seg.flood;
        if (target == null && flood.length == 0) {
            drop(frame, VxlanDropReason.NO_PEER);
            return;
        }
        int idx = senders.length == 1 ? 0 : senderIndex(frame, off + strip, len - strip);
        Channel via = senders[idx];
        if (!via.isWritable()) {
            drop(frame, VxlanDropReason.CONGESTED);
            return;
        }
        ByteBuf dgram = via.alloc().directBuffer(Vxlan.HEADER_LENGTH + len - strip);
        Vxlan.writeHeader(dgram, seg.vni);
        if (strip != 0) {
            copy(frame, off, dgram, 12);
            copy(frame, off + 12 + TAG, dgram, len - 12 - TAG);
        } else {
            copy(frame, off, dgram, len);
        }
        frame.release();
        traffic.increment(VxlanTraffic.ENCAPSULATED);
        if (target != null) {
            via.write(VxlanDatagram.of(dgram, target.destination()), via.voidPromise());
            traffic.increment(VxlanTraffic.DATAGRAMS_SENT);
        } else {
            traffic.increment(VxlanTraffic.FLOODED);
            for (int i = 0; i < flood.length; i++) {
                ByteBuf copy = i == flood.length - 1 ? dgram : dgram.retainedDuplicate();
                via.write(VxlanDatagram.of(copy, flood[i].destination()), via.voidPromise());
            }
            traffic.add(VxlanTraffic.DATAGRAMS_SENT, flood.length);
        }
        sendersDirty[idx] = true;
    }

    /**
     * Appends {@code len} bytes of {@code src} from {@code off} to {@code dst} without allocating: arrays and (with
     * Unsafe) memory are copied in bulk; a direct buffer without Unsafe (the JDK 24+ default) word by word, since
     * Netty's bulk read of such a buffer makes a {@code ByteBuffer} duplicate per call (64 B).
     */
    static void copy(ByteBuf src, int off, ByteBuf dst, int len) {
        if (src.hasArray() || BULK_DIRECT_COPY || !dst.isDirect()) {
            dst.writeBytes(src, off, len);
            return;
        }
        dst.ensureWritable(len);
        int w = dst.writerIndex();
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            dst.setLong(w + i, src.getLong(off + i));
        }
        for (; i < len; i++) {
            dst.setByte(w + i, src.getByte(off + i));
        }
        dst.writerIndex(w + len);
    }

    /** Which pool socket carries the inner flow starting at {@code off} (untagged view of the frame). */
    private int senderIndex(ByteBuf f, int off, int len) {
        int h = f.getInt(off) * 31 + f.getInt(off + 4);
        h = h * 31 + f.getInt(off + 8);
        int type = f.getUnsignedShort(off + 12);
        h = h * 31 + type;
        int ip = off + ETH;
        if (type == 0x0800 && len >= ETH + 20) {
            int ihl = (f.getByte(ip) & 0x0F) * 4;
            int proto = f.getUnsignedByte(ip + 9);
            h = h * 31 + f.getInt(ip + 12);
            h = h * 31 + f.getInt(ip + 16);
            boolean fragment = (f.getUnsignedShort(ip + 6) & 0x3FFF) != 0;
            if (!fragment && (proto == 6 || proto == 17) && len >= ETH + ihl + 4) {
                h = h * 31 + f.getInt(ip + ihl);
            }
        } else if (type == 0x86DD && len >= ETH + 40) {
            for (int i = 8; i < 40; i += 8) {
                h = h * 31 + Long.hashCode(f.getLong(ip + i));
            }
            int next = f.getUnsignedByte(ip + 6);
            if ((next == 6 || next == 17) && len >= ETH + 44) {
                h = h * 31 + f.getInt(ip + 40);
            }
        }
        h ^= h >>> 16;
        return (h & 0x7FFF_FFFF) % senders.length;
    }

    private void flushSenders() {
        boolean[] dirty = sendersDirty;
        Channel[] s = senders;
        for (int i = 0; i < dirty.length && i < s.length; i++) {
            if (dirty[i]) {
                dirty[i] = false;
                s[i].flush();
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A UDP socket reports ICMP port unreachable from a VTEP that went away as an exception on read: the
        // tunnel keeps going (the datagram is gone, nothing to release).
        if (cause instanceof java.net.PortUnreachableException) {
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    /** The device end of one hub port's cable: one VNI, or (trunk) several by VLAN. */
    private final class Device extends ChannelInboundHandlerAdapter {
        final Segment[] byVid;
        final int tpid = 0x8100;
        Segment single;
        L2Port port;
        Channel channel;
        boolean dirty;

        Device(Segment[] byVid) {
            this.byVid = byVid;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            channel = ctx.channel();
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            encapsulate(this, msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            flushSenders();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            channel = null;
            ctx.fireChannelInactive();
        }
    }

    /** Receives on a source-port pool socket: the same decapsulation as the main socket. */
    @ChannelHandler.Sharable
    private final class PoolReceiver extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            decapsulate(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            flushDevices();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // a pool socket's errors (ICMP unreachable) do not stop the tunnel
        }
    }

    /** One VNI: its VLAN in trunk mode (0 otherwise), its flood list, the device of its port. */
    private static final class Segment {
        final int vni;
        final int vid;
        final Vtep[] flood;
        final Device device;

        Segment(int vni, int vid, Vtep[] flood, Device device) {
            this.vni = vni;
            this.vid = vid;
            this.flood = flood;
            this.device = device;
        }
    }

    private record StaticEntry(int vni, long mac, InetAddress vtep) {
    }

    /** Configuration of a {@link VxlanTunnel}. */
    public static final class Builder {
        private final Map<Integer, L2Hub> hubs = new LinkedHashMap<>();
        private final Map<Integer, List<InetAddress>> peers = new LinkedHashMap<>();
        private final List<StaticEntry> statics = new ArrayList<>();
        private final List<Prefix> accepted = new ArrayList<>();
        private L2Hub trunkHub;
        private final Map<Integer, Integer> trunkVids = new LinkedHashMap<>();
        private L2PortOptions portOptions = L2PortOptions.defaults();
        private int remotePort = Vxlan.DEFAULT_PORT;
        private int mtu = DEFAULT_MTU;
        private int maxMacEntries = DEFAULT_MAX_MAC_ENTRIES;
        private int maxVteps = DEFAULT_MAX_VTEPS;
        private Duration agingTime = DEFAULT_AGING_TIME;
        private Duration tickInterval = Duration.ofSeconds(1);
        private Ticker ticker = Ticker.systemTicker();
        private int poolSize = 1;
        private ChannelFactory<? extends Channel> poolFactory;

        private Builder() {
        }

        /** Carries {@code vni} as an (access) port of {@code hub}; several VNIs may share a hub (it bridges them). */
        public Builder vni(int vni, L2Hub hub) {
            Vxlan.checkVni(vni);
            ObjectUtil.checkNotNull(hub, "hub");
            if (hubs.containsKey(vni) || trunkVids.containsKey(vni)) {
                throw new IllegalArgumentException("VNI " + vni + " configured twice");
            }
            hubs.put(vni, hub);
            return this;
        }

        /** Port options of the per-VNI ports ({@link L2PortOptions#defaults()}: access in VLAN 1). */
        public Builder portOptions(L2PortOptions options) {
            ObjectUtil.checkNotNull(options, "options");
            if (options.isMirror()) {
                throw new IllegalArgumentException("a VNI port cannot be a mirror port");
            }
            this.portOptions = options;
            return this;
        }

        /**
         * Trunking: carries each VNI of {@code vniToVid} as a VLAN of one trunk port of {@code hub} (tagged, no
         * native VLAN). All trunked VNIs share that one port and hub.
         */
        public Builder trunk(L2Hub hub, Map<Integer, Integer> vniToVid) {
            ObjectUtil.checkNotNull(hub, "hub");
            if (trunkHub != null && trunkHub != hub) {
                throw new IllegalArgumentException("one trunk hub per tunnel");
            }
            java.util.Set<Integer> vids = new java.util.HashSet<>(trunkVids.values());
            for (Map.Entry<Integer, Integer> e : vniToVid.entrySet()) {
                Vxlan.checkVni(e.getKey());
                int vid = e.getValue();
                if (vid < 1 || vid > 4094) {
                    throw new IllegalArgumentException("VLAN out of range 1..4094: " + vid);
                }
                if (hubs.containsKey(e.getKey()) || trunkVids.containsKey(e.getKey()) || !vids.add(vid)) {
                    throw new IllegalArgumentException("VNI " + e.getKey() + " or VLAN " + vid + " configured twice");
                }
                trunkVids.put(e.getKey(), vid);
            }
            trunkHub = hub;
            return this;
        }

        /** A remote VTEP of {@code vni}: head-end replication target for its floods, and an accepted source. */
        public Builder peer(int vni, String address) {
            return peer(vni, parse(address));
        }

        /** {@link #peer(int, String)} with an address. */
        public Builder peer(int vni, InetAddress address) {
            Vxlan.checkVni(vni);
            ObjectUtil.checkNotNull(address, "address");
            List<InetAddress> list = peers.computeIfAbsent(vni, k -> new ArrayList<>());
            if (!list.contains(address)) {
                list.add(address);
            }
            return this;
        }

        /**
         * A static MAC entry (as {@code bridge fdb append MAC dev vx dst VTEP}): frames to {@code mac} in
         * {@code vni} go to {@code vtep}; never aged, never moved by learning. The VTEP becomes an accepted source.
         */
        public Builder staticEntry(int vni, String mac, String vtep) {
            Vxlan.checkVni(vni);
            statics.add(new StaticEntry(vni, MacAddress.parse(mac), parse(vtep)));
            return this;
        }

        /** Accepts (and learns as VTEPs) senders inside {@code cidrs}, e.g. {@code "192.0.2.0/24"}, {@code "fd00::/64"}. */
        public Builder acceptFrom(String... cidrs) {
            for (String c : cidrs) {
                accepted.add(Prefix.parse(c));
            }
            return this;
        }

        /** UDP destination port of sent datagrams; default 4789. */
        public Builder remotePort(int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
            this.remotePort = port;
            return this;
        }

        /** The inner IP MTU; frames above MTU + 18 bytes are dropped. Default 1450. */
        public Builder mtu(int mtu) {
            if (mtu < 68 || mtu > 65000) {
                throw new IllegalArgumentException("mtu out of range 68..65000: " + mtu);
            }
            this.mtu = mtu;
            return this;
        }

        /** Cap on (VNI, MAC) entries, static ones included; default 8192. */
        public Builder maxMacEntries(int max) {
            ObjectUtil.checkInRange(max, 1, 1 << 24, "maxMacEntries");
            this.maxMacEntries = max;
            return this;
        }

        /** Cap on VTEPs learned from accepted prefixes (configured peers do not count); default 1024. */
        public Builder maxVteps(int max) {
            this.maxVteps = ObjectUtil.checkPositiveOrZero(max, "maxVteps");
            return this;
        }

        /** How long a learned MAC entry or VTEP stays without traffic; default 5 minutes. */
        public Builder agingTime(Duration agingTime) {
            if (agingTime.isNegative() || agingTime.isZero()) {
                throw new IllegalArgumentException("agingTime must be positive: " + agingTime);
            }
            this.agingTime = agingTime;
            return this;
        }

        /** How often the clock advances and aged entries go; default 1 s; {@link Duration#ZERO}: only by {@link VxlanTunnel#tick()}. */
        public Builder tickInterval(Duration tickInterval) {
            if (tickInterval.isNegative()) {
                throw new IllegalArgumentException("tickInterval must not be negative: " + tickInterval);
            }
            this.tickInterval = tickInterval;
            return this;
        }

        /** Time source; default the system ticker. */
        public Builder ticker(Ticker ticker) {
            this.ticker = ObjectUtil.checkNotNull(ticker, "ticker");
            return this;
        }

        /**
         * Sends from {@code size} sockets (the tunnel's own and {@code size - 1} more bound on the same address at
         * ephemeral ports, on the same loop), one chosen per frame by the inner flow's hash; default 1 (a fixed
         * source port). {@code factory} makes the extra channels (null: the main channel's class, reflectively;
         * give one when the channels must be made in a particular network namespace).
         */
        public Builder sourcePortPool(int size, ChannelFactory<? extends Channel> factory) {
            ObjectUtil.checkInRange(size, 1, 64, "size");
            this.poolSize = size;
            this.poolFactory = factory;
            return this;
        }

        public VxlanTunnel build() {
            if (hubs.isEmpty() && trunkVids.isEmpty()) {
                throw new IllegalStateException("no VNI configured");
            }
            return new VxlanTunnel(this);
        }

        private static InetAddress parse(String address) {
            ObjectUtil.checkNotNull(address, "address");
            if (!io.netty.util.NetUtil.isValidIpV4Address(address) && !io.netty.util.NetUtil.isValidIpV6Address(address)) {
                throw new IllegalArgumentException("not an IP address: " + address);
            }
            try {
                return InetAddress.getByName(address); // a literal: no lookup
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException(address, e);
            }
        }
    }
}
