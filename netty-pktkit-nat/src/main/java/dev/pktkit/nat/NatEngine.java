package dev.pktkit.nat;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.Udp;
import dev.pktkit.nat.nat64.Nat64Prefix;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The translator and connection tracker of the packet NAT, without channels: it rewrites one IPv4 packet in
 * place and says where it goes. {@link Nat} puts it between Netty channels; tests, benchmarks and ALGs use it
 * directly.
 *
 * <h2>Model</h2>
 * <ul>
 *   <li>A <b>namespace</b> ({@link #openNamespace}) is one inside address space: mappings are keyed by it, so
 *   tenants with the same inside addresses share the outside addresses without seeing each other. A
 *   <b>port</b> ({@link #addPort}) is one inside attachment in a namespace; inbound packets go to the port that
 *   last sent from the inside host.</li>
 *   <li>A <b>mapping</b> binds (namespace, protocol, inside address, inside port) to (outside address, outside
 *   port), endpoint-independent (RFC 4787 REQ-1): the same for every remote. All mappings of one inside host
 *   use one outside address (paired pooling, REQ-2). For ICMP echo the port is the identifier.</li>
 *   <li>A <b>session</b> is a mapping plus one remote endpoint; it carries the TCP state and the idle timer and
 *   decides filtering. A mapping lives while it has sessions, a pending expectation, or is permanent (static
 *   mapping, port forward).</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * One thread owns an engine (the NAT's event loop): every method must be called on it. Lookups are primitive
 * open-addressing probes over parallel arrays sized at construction; nothing on the translation path allocates
 * or locks (events allocate their snapshot only when a listener is set). The clock is coarse: {@link #tick}
 * sets "now" in seconds and expires what is due, once a second from the NAT's loop.
 *
 * <h2>Ownership</h2>
 * The engine never retains or releases a buffer: the caller owns it and must not share its memory with another
 * reader, since it is rewritten in place. On {@link #DROP} the caller releases it.
 */
public final class NatEngine {
    /** {@link #outbound} result: send the rewritten packet to the outside. */
    public static final int TO_OUTSIDE = -1;
    /** Result: drop (already counted). */
    public static final int DROP = -2;
    /**
     * {@link #inbound} result for NAT64: the IPv4 packet becomes a longer IPv6 packet and needs
     * {@link #NAT64_HEADROOM} bytes before its reader index; nothing was changed: give it that and call again.
     */
    public static final int NEED_HEADROOM = -3;
    /**
     * Result for a fragment (IPv4 MF or offset set; IPv6 with a Fragment header, NAT64-bound) when the engine was
     * made with reassembly in front ({@link #NatEngine(NatConfig, boolean)}): nothing was changed or counted;
     * reassemble it and call again. Checking here rather than in a separate pass in front makes the
     * defragmenter cost nothing for packets that are not fragments.
     */
    public static final int REASSEMBLE = -4;
    /** {@link ProtocolHelper} result: not one of its flows; the engine goes on as without it. */
    public static final int PASS = -5;
    /** Headroom NAT64 needs before an inbound packet's reader index to translate it in place. */
    public static final int NAT64_HEADROOM = 64;
    /** Pseudo inside addresses 240.0.0.0/4 stand for IPv6 hosts in the mapping tables (never a real source). */
    private static final int V6_HOST_TAG = 0xF;

    private static final int F_USED = 1;
    private static final int F_PERMANENT = 2;
    private static final int F_OPEN = 4; // admits any remote (port forward)
    private static final int F_LEASED = 8; // a dynamic mapping opened by openMapping (held, open, counted as static)
    private static final int F_FILTERED = 16; // new inbound sessions only from its remote filters (setRemoteFilters)

    // TCP session state bits
    private static final int T_SYN_OUT = 1;
    private static final int T_SYN_IN = 2;
    private static final int T_FIN_OUT = 4;
    private static final int T_FIN_IN = 8;
    private static final int T_RST = 16;
    private static final int T_EST = 32;

    private final NatConfig config;
    private final boolean reassembly;
    private final NatCounters counters = new NatCounters();
    private final NatListener listener;
    private final int[] outside;
    private final int outsideMin;
    private final int outsideSpan;
    private final Filtering filtering;
    private final int insideAddress;
    private int now;
    private long random = 0x2545F4914F6CDD1DL ^ System.nanoTime();
    /** Random port tries per new mapping before the scan (see {@link #allocatePort}). */
    private static final int PORT_TRIES = 16;
    /** Outside ports looked up while allocating (counted work, for tests). */
    private long portProbes;

    // ---- mappings ----
    private final int[] mNs;
    private final int[] mProtoInPort; // proto << 16 | inside port
    private final int[] mInAddr;
    private final int[] mOutAddr;
    private final int[] mOutPort;
    private final int[] mPort;
    private final int[] mHost;
    private final int[] mFlags;
    private final int[] mSessHead;
    private final int[] mSessCount;
    private final int[] mRefs;
    private final int[] mFree;
    private int mFreeTop;
    private int mappingCount;
    private final OpenIndex byInside;
    private final PackedIndex byOutside; // keyed by outsideKey: the key in the slot, one cache line per probe

    // ---- sessions ----
    private final int[] sMap;
    private final int[] sRAddr;
    private final int[] sRPort;
    private final int[] sState;
    private final int[] sExpiry;
    private final int[] sNext;
    private final int[] sPrev;
    private final int[] sFree;
    private int sFreeTop;
    private int sHigh;
    private int sessionCount;
    private final OpenIndex sessions;

    // ---- inside hosts (namespace, address) ----
    private final int[] hNs;
    private final int[] hAddr;
    private final int[] hCount;
    private final int[] hPort;
    private final int[] hOut;
    private final int[] hFree;
    private int hFreeTop;
    private final OpenIndex hosts;

    // ---- namespaces and ports ----
    private final int[] nsMappings;
    private final boolean[] nsOpen;
    private final int[] nsPorts;
    private final int[] nsLastPort;
    private int[] portNs = new int[16];
    private int portCount;
    private int livePorts;

    // ---- expectations (few, scanned) ----
    private final ExpectedFlow[] expects;
    private final int[] eMap;
    private final int[] eExpiry;
    private int expectCount;

    // ---- address-only mappings for other protocols ----
    private final int[] aNs;
    private final int[] aIn;
    private final int[] aOut;
    private int addressMappings;
    private int staticCount;

    // ---- dynamic mappings opened for inbound (openMapping), few (counted with the static ones), scanned ----
    private final int[] lMap;
    private final int[] lExpiry;
    private int leaseCount;

    // ---- remote filters of static / opened mappings (PCP FILTER), made at the first one ----
    private RemoteFilterTable remoteFilters;

    // ---- incremental expiry ----
    private int expiryCursor;
    private long expiryVisits;
    private int lastTickVisits;

    // ---- helpers (ALGs, see NatHelper): a side table of the sessions they claimed ----
    private static final NatHelper[] NO_HELPERS = new NatHelper[0];
    private NatHelper[] helpers = NO_HELPERS;
    private final int[] sHelp; // per session: its helped-session slot, or -1
    private int[] hlHelper = new int[0];
    private int[] hlPos; // per slot and direction (2 * slot + 0 outbound, + 1 inbound): Linux's seqadj
    private int[] hlBefore;
    private int[] hlAfter;
    private int[] hlFree;
    private int hlFreeTop;
    private HelperPacket helperPacket;
    private ProtocolHelper protocolHelper;
    private long helperSessionsRefused;
    private long helperErrors;

    // ---- NAT64: IPv6 inside hosts, each with a pseudo IPv4 inside address 0xF0000000 | slot ----
    private final Nat64Prefix nat64;
    private final int[] xNs;
    private final long[] xHi;
    private final long[] xLo;
    private final int[] xFree;
    private int xFreeTop;
    private final OpenIndex v6Hosts;
    private int ipId;

    // ---- routed IPv6: direct-mapped cache of source address -> port ----
    private final long[] v6Hi;
    private final long[] v6Lo;
    private final int[] v6Port;
    private final int v6Mask;

    /** An engine that drops fragments ({@link NatDropReason#FRAGMENT}). */
    public NatEngine(NatConfig config) {
        this(config, false);
    }

    /**
     * @param reassembly fragments are returned as {@link #REASSEMBLE} for the caller's defragmenter instead of
     *                   being dropped
     */
    public NatEngine(NatConfig config, boolean reassembly) {
        this.reassembly = reassembly;
        this.config = config;
        this.listener = config.listener;
        this.outside = config.outsideAddresses;
        int lo = -1;
        int hi = 0;
        for (int a : outside) {
            lo = Integer.compareUnsigned(a, lo) < 0 ? a : lo;
            hi = Integer.compareUnsigned(a, hi) > 0 ? a : hi;
        }
        this.outsideMin = lo;
        this.outsideSpan = hi - lo;
        this.filtering = config.filtering;
        this.insideAddress = config.insideAddress;
        int m = config.maxMappings;
        mNs = new int[m];
        mProtoInPort = new int[m];
        mInAddr = new int[m];
        mOutAddr = new int[m];
        mOutPort = new int[m];
        mPort = new int[m];
        mHost = new int[m];
        mFlags = new int[m];
        mSessHead = new int[m];
        mSessCount = new int[m];
        mRefs = new int[m];
        mFree = freeList(m);
        mFreeTop = m;
        byInside = new OpenIndex(m) {
            @Override
            int hashOf(int id) {
                return insideHash(mNs[id], mProtoInPort[id], mInAddr[id]);
            }
        };
        byOutside = new PackedIndex(m);
        int s = config.maxSessions;
        sMap = new int[s];
        sRAddr = new int[s];
        sRPort = new int[s];
        sState = new int[s];
        sExpiry = new int[s];
        sNext = new int[s];
        sPrev = new int[s];
        sFree = freeList(s);
        sFreeTop = s;
        Arrays.fill(sMap, -1);
        sHelp = new int[s];
        Arrays.fill(sHelp, -1);
        sessions = new OpenIndex(s) {
            @Override
            int hashOf(int id) {
                return sessionHash(sMap[id], sRAddr[id], sRPort[id]);
            }
        };
        hNs = new int[m];
        hAddr = new int[m];
        hCount = new int[m];
        hPort = new int[m];
        hOut = new int[m];
        hFree = freeList(m);
        hFreeTop = m;
        hosts = new OpenIndex(m) {
            @Override
            int hashOf(int id) {
                return hostHash(hNs[id], hAddr[id]);
            }
        };
        int n = config.maxNamespaces;
        nsMappings = new int[n];
        nsOpen = new boolean[n];
        nsPorts = new int[n];
        nsLastPort = new int[n];
        expects = new ExpectedFlow[config.maxExpectations];
        eMap = new int[config.maxExpectations];
        eExpiry = new int[config.maxExpectations];
        aNs = new int[config.maxStatic];
        aIn = new int[config.maxStatic];
        aOut = new int[config.maxStatic];
        lMap = new int[config.maxStatic];
        lExpiry = new int[config.maxStatic];
        nat64 = config.nat64;
        int x = nat64 == null ? 1 : m;
        xNs = new int[x];
        xHi = new long[x];
        xLo = new long[x];
        xFree = freeList(x);
        xFreeTop = x;
        v6Hosts = new OpenIndex(x) {
            @Override
            int hashOf(int id) {
                return OpenIndex.hash(xHi[id] ^ xNs[id], xLo[id]);
            }
        };
        int c = Integer.highestOneBit(config.ipv6RouteCache * 2 - 1);
        v6Hi = new long[c];
        v6Lo = new long[c];
        v6Port = new int[c];
        Arrays.fill(v6Port, -1);
        v6Mask = c - 1;
    }

    private static int[] freeList(int n) {
        int[] f = new int[n];
        for (int i = 0; i < n; i++) {
            f[i] = n - 1 - i; // pop from the top gives 0, 1, 2...
        }
        return f;
    }

    static int insideHash(int ns, int protoPort, int inAddr) {
        return OpenIndex.hash(((long) ns << 32) | protoPort, inAddr & 0xFFFF_FFFFL);
    }

    /**
     * The outside index's key of an outside endpoint: address in the high half, then a marker bit (so no key is
     * 0, the empty slot), the protocol (8 bits) and the port (16 bits). Callers pass a protocol below 256 and a
     * port below 65536 (the public look-ups check theirs, see {@link #outsideInRange}).
     */
    static long outsideKey(int proto, int outAddr, int outPort) {
        return ((long) outAddr << 32) | 0x8000_0000L | (proto << 16) | outPort;
    }

    private static boolean outsideInRange(int proto, int outPort) {
        return ((proto >>> 8) | (outPort >>> 16)) == 0;
    }

    static int sessionHash(int map, int rAddr, int rPort) {
        return OpenIndex.hash(((long) map << 16) | rPort, rAddr & 0xFFFF_FFFFL);
    }

    static int hostHash(int ns, int addr) {
        return OpenIndex.hash(ns, addr & 0xFFFF_FFFFL);
    }

    public NatConfig config() {
        return config;
    }

    public NatCounters counters() {
        return counters;
    }

    /** Live mappings (dynamic and permanent). */
    public int mappingCount() {
        return mappingCount;
    }

    /** Live sessions. */
    public int sessionCount() {
        return sessionCount;
    }

    /** Pending expectations. */
    public int expectationCount() {
        return expectCount;
    }

    /**
     * Bytes held by the engine's tables. Every table is sized from the configuration at construction and never
     * grows, so this is fixed for an engine (the inside-port array alone grows with attached ports): about
     * 180–216 bytes per mapping of {@code maxMappings} with the default {@code maxSessions = 2 × maxMappings}, plus
     * about 110 KB for the other bounds.
     */
    public long tableBytes() {
        long ints = 0;
        for (int[] a : new int[][]{mNs, mProtoInPort, mInAddr, mOutAddr, mOutPort, mPort, mHost, mFlags, mSessHead,
                mSessCount, mRefs, mFree, byInside.slots, sMap, sRAddr, sRPort, sState, sExpiry,
                sNext, sPrev, sFree, sessions.slots, hNs, hAddr, hCount, hPort, hOut, hFree, hosts.slots, nsMappings,
                nsPorts, nsLastPort, portNs, eMap, eExpiry, aNs, aIn, aOut, lMap, lExpiry, xNs, xFree, v6Hosts.slots, v6Port}) {
            ints += a.length;
        }
        long longs = (long) xHi.length + xLo.length + v6Hi.length + v6Lo.length + byOutside.table.length;
        return 4 * ints + 8 * longs + nsOpen.length + 8L * expects.length
                + (remoteFilters == null ? 0 : remoteFilters.bytes());
    }

    /** Look-up work of the indices, counted (see {@link OpenIndex#probeStats}): inside, outside, sessions, hosts. */
    long[][] probeStats() {
        return new long[][]{byInside.probeStats(), byOutside.probeStats(), sessions.probeStats(), hosts.probeStats()};
    }

    /** Session-table slots the expiry has visited so far (counted work, for tests). */
    long expiryVisits() {
        return expiryVisits;
    }

    /** Session-table slots the last {@link #tick} visited (at most {@code expiryScanPerTick}). */
    int lastTickVisits() {
        return lastTickVisits;
    }

    /** Outside ports looked up so far while allocating ports for new mappings. */
    long portProbes() {
        return portProbes;
    }

    /** The coarse clock, in seconds, as last set by {@link #tick}. */
    public int now() {
        return now;
    }

    // =====================================================================================================
    // namespaces and ports
    // =====================================================================================================

    /** Opens a namespace and returns its id. @throws IllegalStateException when {@code maxNamespaces} are open */
    public int openNamespace() {
        for (int i = 0; i < nsOpen.length; i++) {
            if (!nsOpen[i]) {
                nsOpen[i] = true;
                nsMappings[i] = 0;
                nsPorts[i] = 0;
                nsLastPort[i] = -1;
                return i;
            }
        }
        throw new IllegalStateException("NAT namespaces full (" + nsOpen.length + ")");
    }

    /** Closes a namespace: its mappings (permanent ones included) and expectations go. Its ports must be gone. */
    public void closeNamespace(int ns) {
        checkNamespace(ns);
        for (int i = 0; i < expects.length; i++) {
            if (expects[i] != null && mNs[eMap[i]] == ns) {
                removeExpectation(i);
            }
        }
        for (int m = 0; m < mNs.length; m++) {
            if ((mFlags[m] & F_USED) != 0 && mNs[m] == ns) {
                removeMapping(m);
            }
        }
        for (int i = 0; i < addressMappings; i++) {
            if (aNs[i] == ns) {
                removeAddressAt(i--);
            }
        }
        nsOpen[ns] = false;
    }

    /** Adds an inside port in {@code ns}; returns its index (what {@link #inbound} returns). */
    public int addPort(int ns) {
        checkNamespace(ns);
        int p = -1;
        for (int i = 0; i < portCount; i++) {
            if (portNs[i] < 0) {
                p = i;
                break;
            }
        }
        if (p < 0) {
            if (portCount == portNs.length) {
                portNs = Arrays.copyOf(portNs, portCount * 2);
            }
            p = portCount++;
        }
        portNs[p] = ns;
        nsPorts[ns]++;
        nsLastPort[ns] = p;
        livePorts++;
        return p;
    }

    /** Removes an inside port; mappings stay (they follow the host to another port of the namespace). */
    public void removePort(int port) {
        int ns = portNs[port];
        if (ns < 0) {
            return;
        }
        portNs[port] = -1;
        nsPorts[ns]--;
        livePorts--;
        if (nsLastPort[ns] == port) {
            nsLastPort[ns] = -1;
            for (int i = 0; i < portCount; i++) {
                if (portNs[i] == ns) {
                    nsLastPort[ns] = i;
                }
            }
        }
        for (int i = 0; i < v6Port.length; i++) {
            if (v6Port[i] == port) {
                v6Port[i] = -1;
            }
        }
    }

    /** The namespace of a port, or -1. */
    public int namespaceOf(int port) {
        return port >= 0 && port < portCount ? portNs[port] : -1;
    }

    private void checkNamespace(int ns) {
        if (ns < 0 || ns >= nsOpen.length || !nsOpen[ns]) {
            throw new IllegalArgumentException("no such namespace: " + ns);
        }
    }

    // =====================================================================================================
    // outbound
    // =====================================================================================================

    /** {@link #outbound(ByteBuf, int, boolean)} with complete transport checksums. */
    public int outbound(ByteBuf buf, int port) {
        return outbound(buf, port, false);
    }

    /**
     * Translates a packet that arrived on inside port {@code port} (the packet from {@code readerIndex()}).
     *
     * @param partialChecksum the TCP/UDP checksum field holds only the pseudo-header sum (checksum offload,
     *                        Linux's CHECKSUM_PARTIAL): it is updated for the address change only, and stays partial
     * @return {@link #TO_OUTSIDE}, {@link #DROP}, or an inside port index (hairpinned, or a reply from the NAT's
     *         own inside address) to deliver the rewritten packet to
     */
    public int outbound(ByteBuf buf, int port, boolean partialChecksum) {
        if (nioFastPath(buf)) {
            int v = fastPath(buf, port, partialChecksum, true);
            if (v != SLOW) {
                return v;
            }
        }
        int off = buf.readerIndex();
        if (buf.readableBytes() < Ipv4.MIN_HEADER_LENGTH) {
            return buf.readableBytes() > 0 && buf.getUnsignedByte(off) >>> 4 == 6 ? outboundV6(buf, off, port)
                    : drop(NatDropReason.MALFORMED);
        }
        // the first 20 bytes in three reads: version..fragment, ttl..source, destination
        long w0 = buf.getLong(off);
        if ((w0 >>> 60) != 4) {
            return (w0 >>> 60) == 6 ? outboundV6(buf, off, port) : drop(NatDropReason.MALFORMED);
        }
        long w1 = buf.getLong(off + 8);
        int dst = buf.getInt(off + 16);
        int hl = checkHeader(buf, off, w0, w1, dst);
        if (hl < 0) {
            return drop(NatDropReason.MALFORMED);
        }
        if ((w0 & 0x3FFF) != 0) {
            return fragment();
        }
        int ns = portNs[port];
        int src = (int) w1;
        if ((src >>> 24) == 0 || (src >>> 24) == 127 || (src >>> 28) >= 0xE || isOutside(src)) {
            return drop(NatDropReason.BAD_SOURCE);
        }
        if ((dst >>> 28) >= 0xE) {
            return drop(NatDropReason.NOT_UNICAST);
        }
        int proto = (int) (w1 >>> 48) & 0xFF;
        int l4 = off + hl;
        int l4len = ((int) (w0 >>> 32) & 0xFFFF) - hl;
        if (dst == insideAddress && insideAddress != 0) {
            return local(buf, off, l4, l4len, proto, port);
        }
        int verdict;
        if (proto == IpProtocol.TCP || proto == IpProtocol.UDP) {
            verdict = l4len < minTransportLength(proto) ? drop(NatDropReason.MALFORMED)
                    : outboundFlow(buf, off, l4, proto, ns, port, w1, dst, partialChecksum);
        } else if (proto == IpProtocol.ICMP) {
            verdict = outboundIcmp(buf, off, l4, l4len, ns, port, w1, dst);
        } else {
            verdict = protocolHelper != null && proto == protocolHelper.protocol()
                    ? protocolHelper.outbound(buf, off, l4, l4 + l4len, ns, src, dst) : PASS;
            if (verdict == PASS) {
                verdict = outboundOther(buf, off, ns, src);
            }
        }
        if (verdict != TO_OUTSIDE) {
            return verdict;
        }
        if (isOutside(dst)) {
            if (!config.hairpinning) {
                return drop(NatDropReason.HAIRPIN_REFUSED);
            }
            int p = inbound(buf, partialChecksum);
            if (p >= 0) {
                counters.count(NatCounters.HAIRPIN);
            }
            return p;
        }
        counters.count(NatCounters.OUT);
        return TO_OUTSIDE;
    }

    /**
     * Validates an IPv4 header (RFC 791) whose first 20 bytes were read as {@code w0}, {@code w1} and
     * {@code dst}: a 20-byte header is checked from those words (total length within the buffer, header
     * checksum), one with options by {@link Ipv4#check}. Returns the header length or a negative value.
     */
    private static int checkHeader(ByteBuf buf, int off, long w0, long w1, int dst) {
        if ((w0 >>> 56) != 0x45) {
            return Ipv4.check(buf, off, true);
        }
        int total = (int) (w0 >>> 32) & 0xFFFF;
        if (total < Ipv4.MIN_HEADER_LENGTH || total > buf.writerIndex() - off) {
            return -1;
        }
        long sum = (w0 >>> 32) + (w0 & 0xFFFF_FFFFL) + (w1 >>> 32) + (w1 & 0xFFFF_FFFFL) + (dst & 0xFFFF_FFFFL);
        return Checksums.fold(sum) == 0xFFFF ? Ipv4.MIN_HEADER_LENGTH : -1;
    }

    private int fragment() {
        return reassembly ? REASSEMBLE : drop(NatDropReason.FRAGMENT);
    }

    private static int minTransportLength(int proto) {
        return proto == IpProtocol.TCP ? 20 : 8;
    }

    /** Offset of the checksum field in a TCP, UDP or ICMP header. */
    private static int checksumOffset(int proto) {
        return proto == IpProtocol.TCP ? 16 : proto == IpProtocol.UDP ? 6 : 2;
    }

    /**
     * A TCP segment, UDP datagram or ICMP echo request going out (RFC 4787 / 5382 / 5508 §3): the mapping and
     * session of its flow (made if new), then the source address and port (the echo identifier) rewritten with
     * incremental checksum updates (RFC 1624). {@code w1} is the header's second word (TTL .. source address).
     */
    private int outboundFlow(ByteBuf buf, int off, int l4, int proto, int ns, int port, long w1, int dst,
                             boolean partial) {
        int src = (int) w1;
        int key;
        int rPort;
        if (proto == IpProtocol.ICMP) {
            key = buf.getUnsignedShort(l4 + 4);
            rPort = 0;
        } else {
            int ports = buf.getInt(l4);
            key = ports >>> 16;
            rPort = ports & 0xFFFF;
        }
        int s = session(ns, port, proto, src, key, dst, rPort);
        if (s < 0) {
            return DROP;
        }
        int m = sMap[s];
        int h = sHelp[s];
        if (h >= 0) {
            int r = helped(buf, off, l4, proto, s, h, true, partial);
            if (r < 0) {
                return DROP;
            }
            if (r != 0) {
                partial = false;
                w1 = buf.getLong(off + 8); // the header checksum changed with the length
            }
        }
        refresh(s, proto, proto == IpProtocol.TCP ? buf.getUnsignedByte(l4 + 13) : 0, true);
        mPort[m] = port;
        hPort[mHost[m]] = port;
        int outAddr = mOutAddr[m];
        int outPort = mOutPort[m];
        int ipck = addressUpdate((int) (w1 >>> 32) & 0xFFFF, src, outAddr);
        buf.setLong(off + 8, (w1 & 0xFFFF_0000_0000_0000L) | ((long) ipck << 32) | (outAddr & 0xFFFF_FFFFL));
        if (proto == IpProtocol.ICMP) {
            buf.setShort(l4 + 4, outPort);
            buf.setShort(l4 + 2, Checksums.incrementalUpdate16(buf.getUnsignedShort(l4 + 2), key, outPort));
        } else {
            buf.setShort(l4, outPort);
            transportUpdate(buf, l4 + checksumOffset(proto), proto, src, outAddr, key, outPort, partial);
        }
        return TO_OUTSIDE;
    }

    /**
     * The session between an inside endpoint and a remote endpoint, with its mapping, made if new (the mapping
     * endpoint-independent, RFC 4787 REQ-1); -1 when a bound refused one (counted).
     */
    private int session(int ns, int port, int proto, int inAddr, int inPort, int rAddr, int rPort) {
        int m = findInside(ns, (proto << 16) | inPort, inAddr);
        boolean fresh = false;
        if (m < 0) {
            m = createMapping(ns, port, proto, inAddr, inPort, 0, 0);
            if (m < 0) {
                return -1;
            }
            fresh = true;
        }
        int s = findSession(m, rAddr, rPort);
        if (s < 0) {
            s = createSession(m, rAddr, rPort);
            if (s >= 0 && helpers.length > 0) {
                claim(s, false);
            }
            if (s < 0 && fresh) {
                releaseIfIdle(m);
            }
        }
        return s;
    }

    /** Session timer (and TCP state) on a packet of the flow: RFC 5382 / 7857 for TCP, 4787 UDP, 5508 ICMP. */
    private void refresh(int s, int proto, int tcpFlags, boolean out) {
        if (proto == IpProtocol.TCP) {
            tcpTrack(s, tcpFlags, out);
        } else {
            sExpiry[s] = now + (proto == IpProtocol.UDP ? config.udpSeconds : config.icmpSeconds);
        }
    }

    private int outboundIcmp(ByteBuf buf, int off, int l4, int l4len, int ns, int port, long w1, int dst) {
        if (l4len < 8) {
            return drop(NatDropReason.MALFORMED);
        }
        int type = buf.getUnsignedByte(l4);
        if (type == Icmpv4.TYPE_ECHO_REQUEST) {
            return outboundFlow(buf, off, l4, IpProtocol.ICMP, ns, port, w1, dst, false);
        }
        if (Icmpv4.isError(type) && type != Icmpv4.TYPE_REDIRECT) {
            return icmpError(buf, off, l4, l4len, false, ns, (int) w1, dst);
        }
        return drop(NatDropReason.UNSUPPORTED_ICMP);
    }

    // The packet an ICMP error quotes, as parsed by embedded() (single-threaded scratch, no allocation).
    private int eProto;
    private int eSrc;
    private int eDst;
    private int eSrcPort;
    private int eDstPort;
    private int eStart;
    private int eHl;
    private int eEnd;

    /**
     * Parses the IPv4 packet quoted by the ICMP error at {@code l4} (RFC 792; its header and 8 bytes after it
     * are required): a TCP or UDP packet, or an ICMP echo of {@code echoType} (its identifier taken as the port
     * on the side that owns it). Returns false, counted, for anything else.
     */
    private boolean embedded(ByteBuf buf, int off, int l4, int echoType) {
        int e = l4 + 8;
        int end = off + buf.getUnsignedShort(off + 2);
        int ehl = embeddedHeader(buf, e, end);
        if (ehl < 0) {
            drop(NatDropReason.MALFORMED);
            return false;
        }
        int proto = buf.getUnsignedByte(e + 9);
        int el4 = e + ehl;
        if (proto == IpProtocol.TCP || proto == IpProtocol.UDP) {
            eSrcPort = buf.getUnsignedShort(el4);
            eDstPort = buf.getUnsignedShort(el4 + 2);
        } else if (proto == IpProtocol.ICMP && buf.getUnsignedByte(el4) == echoType) {
            int id = buf.getUnsignedShort(el4 + 4);
            boolean request = echoType == Icmpv4.TYPE_ECHO_REQUEST; // our request: the identifier is ours
            eSrcPort = request ? id : 0;
            eDstPort = request ? 0 : id;
        } else {
            drop(NatDropReason.UNSUPPORTED_ICMP);
            return false;
        }
        eProto = proto;
        eSrc = buf.getInt(e + 12);
        eDst = buf.getInt(e + 16);
        eStart = e;
        eHl = ehl;
        eEnd = end;
        return true;
    }

    /**
     * An ICMP error crossing the NAT (RFC 5508 §4). Inbound ({@code in}), about one of our outbound packets: the
     * embedded packet went outside endpoint → remote, and the outer destination and embedded source go back to
     * the inside endpoint (NAT64 mappings on to {@link #inbound64Error}). Outbound, an inside host's error about
     * an inbound packet: the embedded packet went remote → inside endpoint, and the outer source and embedded
     * destination become the outside endpoint. Returns the inside port, or {@link #TO_OUTSIDE}.
     */
    private int icmpError(ByteBuf buf, int off, int l4, int l4len, boolean in, int ns, int src, int dst) {
        if (!embedded(buf, off, l4, in ? Icmpv4.TYPE_ECHO_REQUEST : Icmpv4.TYPE_ECHO_REPLY)) {
            return DROP;
        }
        int ourAddr = in ? eSrc : eDst; // the embedded packet's endpoint on the NAT's side, then the remote's
        int ourPort = in ? eSrcPort : eDstPort;
        int rAddr = in ? eDst : eSrc;
        int rPort = in ? eDstPort : eSrcPort;
        int outerAddr = in ? dst : src;
        if (ourAddr != outerAddr) {
            return drop(NatDropReason.ICMP_NO_SESSION);
        }
        int m = in ? findOutside(eProto, ourAddr, ourPort) : findInside(ns, (eProto << 16) | ourPort, ourAddr);
        if (m < 0 || findSession(m, rAddr, rPort) < 0) {
            return drop(NatDropReason.ICMP_NO_SESSION);
        }
        int target = TO_OUTSIDE;
        int newAddr = mOutAddr[m];
        int newPort = mOutPort[m];
        if (in) {
            target = targetPort(m);
            if (target < 0) {
                return drop(NatDropReason.NO_ROUTE);
            }
            newAddr = mInAddr[m];
            newPort = mProtoInPort[m] & 0xFFFF;
            if ((newAddr >>> 28) == V6_HOST_TAG) {
                if (buf.readerIndex() < NAT64_HEADROOM) {
                    return NEED_HEADROOM;
                }
                return inbound64Error(buf, off, l4, eStart, eHl, eEnd, eProto, src, m) ? target : DROP;
            }
        }
        rewriteEmbedded(buf, eStart, eStart + eHl, eEnd, eProto, in, ourAddr, newAddr, ourPort, newPort);
        buf.setInt(off + (in ? 16 : 12), newAddr);
        buf.setShort(off + 10, addressUpdate(buf.getUnsignedShort(off + 10), outerAddr, newAddr));
        refillIcmpChecksum(buf, l4, l4len);
        return target;
    }

    private int outboundOther(ByteBuf buf, int off, int ns, int src) {
        for (int i = 0; i < addressMappings; i++) {
            if (aNs[i] == ns && aIn[i] == src) {
                int out = aOut[i];
                buf.setInt(off + 12, out);
                buf.setShort(off + 10, addressUpdate(buf.getUnsignedShort(off + 10), src, out));
                return TO_OUTSIDE;
            }
        }
        return drop(NatDropReason.UNSUPPORTED_PROTOCOL);
    }

    /** A packet to the NAT's inside address: echo requests are answered in place; the rest is dropped. */
    private int local(ByteBuf buf, int off, int l4, int l4len, int proto, int port) {
        if (proto != IpProtocol.ICMP || l4len < 8 || buf.getUnsignedByte(l4) != Icmpv4.TYPE_ECHO_REQUEST
                || buf.getUnsignedByte(l4 + 1) != 0) {
            return drop(NatDropReason.LOCAL);
        }
        int src = buf.getInt(off + 12);
        buf.setInt(off + 12, buf.getInt(off + 16));
        buf.setInt(off + 16, src); // swapping the addresses keeps the header checksum
        buf.setByte(l4, Icmpv4.TYPE_ECHO_REPLY);
        buf.setShort(l4 + 2, Checksums.incrementalUpdate16(buf.getUnsignedShort(l4 + 2),
                Icmpv4.TYPE_ECHO_REQUEST << 8, Icmpv4.TYPE_ECHO_REPLY << 8));
        return port;
    }

    private int outboundV6(ByteBuf buf, int off, int port) {
        if (nat64 != null && buf.readableBytes() >= 40
                && nat64.contains(buf.getLong(off + 24), buf.getLong(off + 32))) {
            return outbound64(buf, off, port);
        }
        if (config.ipv6Policy != Ipv6Policy.ROUTE || Ipv6.check(buf, off) < 0) {
            return drop(config.ipv6Policy == Ipv6Policy.ROUTE ? NatDropReason.MALFORMED : NatDropReason.IPV6_DROPPED);
        }
        long hi = buf.getLong(off + 8);
        long lo = buf.getLong(off + 16);
        int i = OpenIndex.hash(hi, lo) & v6Mask;
        v6Hi[i] = hi;
        v6Lo[i] = lo;
        v6Port[i] = port;
        counters.count(NatCounters.OUT);
        return TO_OUTSIDE;
    }


    // =====================================================================================================
    // fast path: established IPv4 TCP/UDP flows in direct buffers without Unsafe, through one NIO view
    // =====================================================================================================

    /** {@link #fastPath}: not handled here, nothing changed; take the general path. */
    private static final int SLOW = Integer.MIN_VALUE;

    /**
     * Whether a packet takes the fast path ({@link #fastPath}): a direct buffer, held in one NIO buffer, when Netty
     * may not use {@code Unsafe} (JDK 25's default: each {@code ByteBuf} access then costs a reference-count test,
     * a bounds test and a {@code ByteBuffer} access with its own test, about 2.4 ns). Heap buffers, any buffer when
     * {@code Unsafe} is allowed (the general path's getters are already at the floor then) and composite buffers
     * of several components take the general path.
     */
    private static boolean nioFastPath(ByteBuf buf) {
        return NIO_VIEW && buf.isDirect() && buf.nioBufferCount() == 1;
    }

    /**
     * Whether the fast path reads and writes {@code buf} through its {@link ByteBuf#internalNioBuffer} (one view
     * per packet, then plain absolute {@code ByteBuffer} accesses) rather than its getters: only for buffers of
     * {@link PooledByteBufAllocator}, whose view comes back with the memory from the thread cache and so costs no
     * allocation. Any other buffer — Netty 4.2's default {@code AdaptiveByteBufAllocator}, whose buffers make
     * their view anew (two {@code ByteBuffer}s) on each use unless their transport already did; unpooled buffers,
     * which make it once per buffer — is read through its getters: a few nanoseconds more per packet, and no
     * allocation.
     */
    private static boolean freeView(ByteBuf buf) {
        return buf.alloc() instanceof PooledByteBufAllocator;
    }

    /**
     * Whether the fast path runs for direct buffers: when Netty runs without {@code Unsafe} (JDK 24+ by default;
     * a direct buffer may still report a memory address there, from its FFM allocation, but every access goes
     * through its {@code ByteBuffer}). {@code -Ddev.pktkit.nat.nioView=false} switches it off.
     */
    static final boolean NIO_VIEW = !PlatformDependent.hasUnsafe()
            && Boolean.parseBoolean(System.getProperty("dev.pktkit.nat.nioView", "true"));

    // The fast path's accesses: through the view when there is one, else through the buffer's getters.
    private static long getLong(ByteBuffer nb, ByteBuf buf, int at) {
        return nb != null ? nb.getLong(at) : buf.getLong(at);
    }

    private static int getUnsignedShort(ByteBuffer nb, ByteBuf buf, int at) {
        return nb != null ? nb.getShort(at) & 0xFFFF : buf.getUnsignedShort(at);
    }

    private static void setLong(ByteBuffer nb, ByteBuf buf, int at, long v) {
        if (nb != null) {
            nb.putLong(at, v);
        } else {
            buf.setLong(at, v);
        }
    }

    private static void setShort(ByteBuffer nb, ByteBuf buf, int at, int v) {
        if (nb != null) {
            nb.putShort(at, (short) v);
        } else {
            buf.setShort(at, v);
        }
    }

    /**
     * {@link #outbound} ({@code out}) or {@link #inbound} for the common case: an IPv4 packet with a 20-byte
     * header, not a fragment, TCP or UDP, of an existing session no helper claimed (or whose helper does not want
     * this packet and which has no sequence offsets); outbound to a unicast remote (not the NAT's inside address, not
     * hairpinned), inbound for an IPv4 inside host, delivered to the port that last sent for it. Four reads (three
     * header words; TCP: offset..checksum, UDP: checksum) and three writes (TTL..source, destination..ports,
     * transport checksum). Anything else, and any packet the general path would drop, returns {@link #SLOW} with
     * nothing changed.
     */
    private int fastPath(ByteBuf buf, int port, boolean partial, boolean out) {
        int off = buf.readerIndex();
        int len = buf.writerIndex() - off;
        if (len < 28) {
            return SLOW;
        }
        ByteBuffer nb = null;
        int b = off;
        if (freeView(buf)) {
            nb = buf.internalNioBuffer(off, len);
            if (nb.order() != ByteOrder.BIG_ENDIAN) {
                return SLOW;
            }
            b = nb.position();
        }
        long w0 = getLong(nb, buf, b);
        long w1 = getLong(nb, buf, b + 8);
        long w2 = getLong(nb, buf, b + 16); // destination, then the transport ports
        int proto = (int) (w1 >>> 48) & 0xFF;
        boolean tcp = proto == IpProtocol.TCP;
        int src = (int) w1;
        int dst = (int) (w2 >>> 32);
        if (!plainHeader(w0, w1, dst, len, tcp, proto)) {
            return SLOW;
        }
        int sport = (int) (w2 >>> 16) & 0xFFFF;
        int dport = (int) w2 & 0xFFFF;
        int m;
        int s;
        int target;
        if (out) {
            if ((src >>> 24) == 0 || (src >>> 24) == 127 || (src >>> 28) >= 0xE || (dst >>> 28) >= 0xE
                    || (dst == insideAddress && insideAddress != 0) || isOutside(src) || isOutside(dst)) {
                return SLOW;
            }
            m = findInside(portNs[port], (proto << 16) | sport, src);
            s = m < 0 ? -1 : findSession(m, dst, dport);
            target = TO_OUTSIDE;
        } else {
            m = findOutside(proto, dst, dport);
            s = m < 0 ? -1 : findSession(m, src, sport);
            target = s < 0 || (mInAddr[m] >>> 28) == V6_HOST_TAG ? -1 : targetPort(m);
        }
        if (s < 0 || (!out && target < 0)) {
            return SLOW;
        }
        int ckAt = b + (tcp ? 36 : 26);
        int flags = 0;
        int ck;
        long w4 = 0;
        if (tcp) {
            w4 = getLong(nb, buf, b + 32); // data offset, flags, window, checksum
            flags = (int) (w4 >>> 48) & 0xFF;
            ck = (int) (w4 >>> 16) & 0xFFFF; // bytes 16..17 of the TCP header
        } else {
            ck = getUnsignedShort(nb, buf, ckAt);
        }
        int h = sHelp[s];
        if (h >= 0) {
            // a helped session stays here when it has no sequence offsets (TCP) and its helper does not want this
            // payload (NatHelper.wants: the ALG's fast path); written out here, not as a method: C2 does not
            // inline a call into this method once the callee's own code is big, and the call costs more than
            // the test
            int total = (int) (w0 >>> 32) & 0xFFFF;
            int data = 20 + (tcp ? ((int) (w4 >>> 60) & 0xF) << 2 : 8); // payload offset from the IP header
            if ((tcp && ((hlAfter[2 * h] | hlAfter[2 * h + 1]) != 0 || data < 40)) // offsets, or a bad data offset
                    || (data >= total ? data != total
                    : nb != null ? helpers[hlHelper[h]].wants(buf, nb, b + data, off + data, total - data, out)
                    : helpers[hlHelper[h]].wants(buf, off + data, total - data, out))) {
                return SLOW;
            }
        }
        refresh(s, proto, flags, out);
        // the endpoint on the NAT's side: outbound the source (inside -> outside), inbound the destination
        int oldA;
        int newA;
        int oldP;
        int newP;
        long w1New;
        long w2New;
        if (out) {
            mPort[m] = port;
            hPort[mHost[m]] = port;
            oldA = src;
            oldP = sport;
            newA = mOutAddr[m];
            newP = mOutPort[m];
            w1New = (w1 & 0xFFFF_0000_0000_0000L) | (newA & 0xFFFF_FFFFL);
            w2New = (w2 & 0xFFFF_FFFF_0000_FFFFL) | ((long) newP << 16);
        } else {
            oldA = dst;
            oldP = dport;
            newA = mInAddr[m];
            newP = mProtoInPort[m] & 0xFFFF;
            w1New = w1 & 0xFFFF_0000_FFFF_FFFFL;
            w2New = ((long) newA << 32) | (w2 & 0xFFFF_0000L) | newP;
        }
        int ipck = addressUpdate((int) (w1 >>> 32) & 0xFFFF, oldA, newA);
        setLong(nb, buf, b + 8, w1New | ((long) ipck << 32));
        setLong(nb, buf, b + 16, w2New);
        setShort(nb, buf, ckAt, transportChecksum(ck, proto, oldA, newA, oldP, newP, partial));
        counters.count(out ? NatCounters.OUT : NatCounters.IN);
        return target;
    }

    /**
     * The fast path's header test on the first 20 bytes ({@code w0}, {@code w1}, {@code dst}): IPv4 with a 20-byte
     * header, not a fragment (DF allowed), the total length within the buffer and holding the TCP (20) or UDP (8)
     * header, a valid header checksum, TCP or UDP.
     */
    private static boolean plainHeader(long w0, long w1, int dst, int len, boolean tcp, int proto) {
        int total = (int) (w0 >>> 32) & 0xFFFF;
        if ((w0 >>> 56) != 0x45 || (w0 & 0x3FFF) != 0 || total > len || total < (tcp ? 40 : 28)
                || (!tcp && proto != IpProtocol.UDP)) {
            return false;
        }
        long sum = (w0 >>> 32) + (w0 & 0xFFFF_FFFFL) + (w1 >>> 32) + (w1 & 0xFFFF_FFFFL) + (dst & 0xFFFF_FFFFL);
        return Checksums.fold(sum) == 0xFFFF;
    }

    /** {@link #transportUpdate} as a value: the new TCP/UDP checksum for an address and a port change. */
    private static int transportChecksum(int ck, int proto, int oldA, int newA, int oldP, int newP,
                                         boolean partial) {
        if (partial) {
            return Checksums.fold(ck + ((~oldA >>> 16) & 0xFFFF) + (~oldA & 0xFFFF) + (newA >>> 16) + (newA & 0xFFFF));
        }
        if (proto == IpProtocol.UDP && ck == 0) {
            return 0;
        }
        long s = (~ck & 0xFFFF) + ((~oldA >>> 16) & 0xFFFF) + (~oldA & 0xFFFF) + (newA >>> 16) + (newA & 0xFFFF)
                + (~oldP & 0xFFFF) + newP;
        int neu = ~Checksums.fold(s) & 0xFFFF;
        return proto == IpProtocol.UDP && neu == 0 ? 0xFFFF : neu;
    }

    // =====================================================================================================
    // inbound
    // =====================================================================================================

    /** {@link #inbound(ByteBuf, boolean)} with complete transport checksums. */
    public int inbound(ByteBuf buf) {
        return inbound(buf, false);
    }

    /**
     * Translates a packet that arrived from the outside.
     *
     * @return the inside port index to deliver it to, or {@link #DROP}
     */
    public int inbound(ByteBuf buf, boolean partialChecksum) {
        if (nioFastPath(buf)) {
            int v = fastPath(buf, -1, partialChecksum, false);
            if (v != SLOW) {
                return v;
            }
        }
        int off = buf.readerIndex();
        if (buf.readableBytes() < Ipv4.MIN_HEADER_LENGTH) {
            return buf.readableBytes() > 0 && buf.getUnsignedByte(off) >>> 4 == 6 ? inboundV6(buf, off)
                    : drop(NatDropReason.MALFORMED);
        }
        long w0 = buf.getLong(off);
        if ((w0 >>> 60) != 4) {
            return (w0 >>> 60) == 6 ? inboundV6(buf, off) : drop(NatDropReason.MALFORMED);
        }
        long w1 = buf.getLong(off + 8);
        int dst = buf.getInt(off + 16);
        int hl = checkHeader(buf, off, w0, w1, dst);
        if (hl < 0) {
            return drop(NatDropReason.MALFORMED);
        }
        if ((w0 & 0x3FFF) != 0) {
            return fragment();
        }
        int proto = (int) (w1 >>> 48) & 0xFF;
        int l4 = off + hl;
        int l4len = ((int) (w0 >>> 32) & 0xFFFF) - hl;
        int p;
        if (proto == IpProtocol.TCP || proto == IpProtocol.UDP) {
            p = l4len < minTransportLength(proto) ? drop(NatDropReason.MALFORMED)
                    : inboundFlow(buf, off, l4, proto, w1, dst, partialChecksum);
        } else if (proto == IpProtocol.ICMP) {
            if (l4len < 8) {
                return drop(NatDropReason.MALFORMED);
            }
            int type = buf.getUnsignedByte(l4);
            if (type == Icmpv4.TYPE_ECHO_REPLY) {
                p = inboundFlow(buf, off, l4, proto, w1, dst, false);
            } else if (Icmpv4.isError(type) && type != Icmpv4.TYPE_REDIRECT) {
                p = icmpError(buf, off, l4, l4len, true, -1, (int) w1, dst);
            } else {
                p = drop(NatDropReason.UNSUPPORTED_ICMP);
            }
        } else {
            p = protocolHelper != null && proto == protocolHelper.protocol()
                    ? protocolHelper.inbound(buf, off, l4, l4 + l4len, (int) w1, dst) : PASS;
            if (p == PASS) {
                p = inboundOther(buf, off, dst);
            }
        }
        if (p >= 0) {
            counters.count(NatCounters.IN);
        }
        return p;
    }

    /**
     * A TCP segment, UDP datagram or ICMP echo reply coming in: its mapping, its session (a new one only through
     * filtering or an expectation, and for TCP only on a SYN), then the destination address and port (the echo
     * identifier) rewritten back to the inside endpoint; NAT64 mappings go on to {@link #inbound64}.
     */
    private int inboundFlow(ByteBuf buf, int off, int l4, int proto, long w1, int dst, boolean partial) {
        int src = (int) w1;
        int key;
        int rPort;
        if (proto == IpProtocol.ICMP) {
            key = buf.getUnsignedShort(l4 + 4);
            rPort = 0;
        } else {
            int ports = buf.getInt(l4);
            rPort = ports >>> 16;
            key = ports & 0xFFFF;
        }
        int m = findOutside(proto, dst, key);
        if (m < 0) {
            return drop(NatDropReason.NO_MAPPING);
        }
        int s = findSession(m, src, rPort);
        int flags = proto == IpProtocol.TCP ? buf.getUnsignedByte(l4 + 13) : 0;
        if (s < 0) {
            if (proto == IpProtocol.ICMP) {
                return drop(NatDropReason.FILTERED); // a reply without our request
            }
            if (proto == IpProtocol.TCP && (flags & 0x16) != 0x02) { // SYN without ACK/RST opens
                return drop(NatDropReason.TCP_NO_SESSION);
            }
            s = admit(m, src, rPort);
            if (s < 0) {
                return DROP;
            }
        }
        int target = targetPort(m);
        if (target < 0) {
            return drop(NatDropReason.NO_ROUTE);
        }
        int inAddr = mInAddr[m];
        boolean v6 = (inAddr >>> 28) == V6_HOST_TAG;
        if (v6 && l4 < 40) {
            return NEED_HEADROOM; // the IPv6 header goes in front of the transport header

        }
        int h = sHelp[s];
        if (h >= 0 && !v6) {
            int r = helped(buf, off, l4, proto, s, h, false, partial);
            if (r < 0) {
                return DROP;
            }
            if (r != 0) {
                partial = false;
                w1 = buf.getLong(off + 8); // the header checksum changed with the length
            }
        }
        if (proto != IpProtocol.ICMP) {
            refresh(s, proto, flags, false); // an echo reply does not refresh its session (RFC 5508 REQ-1)
        }
        if (v6) {
            return inbound64(buf, off, l4, proto, src, dst, m, checksumOffset(proto), key) ? target : DROP;
        }
        int inPort = mProtoInPort[m] & 0xFFFF;
        buf.setInt(off + 16, inAddr);
        buf.setShort(off + 10, addressUpdate((int) (w1 >>> 32) & 0xFFFF, dst, inAddr));
        if (proto == IpProtocol.ICMP) {
            buf.setShort(l4 + 4, inPort);
            buf.setShort(l4 + 2, Checksums.incrementalUpdate16(buf.getUnsignedShort(l4 + 2), key, inPort));
        } else {
            buf.setShort(l4 + 2, inPort);
            transportUpdate(buf, l4 + checksumOffset(proto), proto, dst, inAddr, key, inPort, partial);
        }
        return target;
    }

    /**
     * A new inbound session on mapping {@code m}: filtering (a mapping with remote filters admits only the remotes
     * they match, whatever it is open to otherwise), then expectations.
     */
    private int admit(int m, int src, int sport) {
        boolean filtered = (mFlags[m] & F_FILTERED) != 0;
        boolean ok = filtered ? remoteFilters.admits(m, src, sport)
                : (mFlags[m] & F_OPEN) != 0 || filtering == Filtering.ENDPOINT_INDEPENDENT
                || (filtering == Filtering.ADDRESS_DEPENDENT && hasRemoteAddress(m, src));
        if (!ok && expectCount > 0) {
            ok = matchExpectation(m, src, sport);
        }
        if (!ok) {
            return drop(filtered ? NatDropReason.REMOTE_FILTERED : NatDropReason.FILTERED);
        }
        int s = createSession(m, src, sport);
        if (s >= 0 && helpers.length > 0) {
            claim(s, true);
        }
        return s < 0 ? DROP : s;
    }

    private boolean hasRemoteAddress(int m, int addr) {
        for (int s = mSessHead[m]; s >= 0; s = sNext[s]) {
            if (sRAddr[s] == addr) {
                return true;
            }
        }
        return false;
    }

    private int inboundOther(ByteBuf buf, int off, int dst) {
        for (int i = 0; i < addressMappings; i++) {
            if (aOut[i] == dst) {
                int ns = aNs[i];
                int in = aIn[i];
                int h = findHost(ns, in);
                int target = h >= 0 && validPort(hPort[h], ns) ? hPort[h] : singlePort(ns);
                if (target < 0) {
                    return drop(NatDropReason.NO_ROUTE);
                }
                buf.setInt(off + 16, in);
                buf.setShort(off + 10, addressUpdate(buf.getUnsignedShort(off + 10), dst, in));
                return target;
            }
        }
        return drop(isOutside(dst) ? NatDropReason.UNSUPPORTED_PROTOCOL : NatDropReason.NO_MAPPING);
    }

    private int inboundV6(ByteBuf buf, int off) {
        if (config.ipv6Policy != Ipv6Policy.ROUTE) {
            return drop(NatDropReason.IPV6_DROPPED);
        }
        if (Ipv6.check(buf, off) < 0) {
            return drop(NatDropReason.MALFORMED);
        }
        long hi = buf.getLong(off + 24);
        long lo = buf.getLong(off + 32);
        int i = OpenIndex.hash(hi, lo) & v6Mask;
        int p = -1;
        if (v6Port[i] >= 0 && v6Hi[i] == hi && v6Lo[i] == lo) {
            p = v6Port[i];
        } else if (livePorts == 1) {
            for (int k = 0; k < portCount; k++) {
                if (portNs[k] >= 0) {
                    p = k;
                }
            }
        }
        if (p < 0) {
            return drop(NatDropReason.IPV6_DROPPED);
        }
        counters.count(NatCounters.IN);
        return p;
    }


    // =====================================================================================================
    // NAT64 (RFC 6146 stateful, RFC 7915 headers)
    // =====================================================================================================

    private int findV6Host(int ns, long hi, long lo) {
        int[] slots = v6Hosts.slots;
        int mask = v6Hosts.mask;
        int i = OpenIndex.hash(hi ^ ns, lo) & mask;
        while (true) {
            int v = slots[i];
            if (v == 0) {
                return -1;
            }
            int x = v - 1;
            if (xLo[x] == lo && xHi[x] == hi && xNs[x] == ns) {
                return x;
            }
            i = (i + 1) & mask;
        }
    }

    private void freeV6Host(int x) {
        v6Hosts.remove(x);
        xFree[xFreeTop++] = x;
    }

    /**
     * Whether an inbound IPv4 packet goes to a NAT64 mapping (it will grow by 20 bytes as IPv6). A read-only
     * look-up for MTU decisions; no state changes.
     */
    public boolean isNat64Inbound(ByteBuf buf) {
        if (nat64 == null) {
            return false;
        }
        int off = buf.readerIndex();
        if (buf.readableBytes() < 28 || buf.getUnsignedByte(off) >>> 4 != 4) {
            return false;
        }
        int hl = (buf.getUnsignedByte(off) & 0x0F) << 2;
        int proto = buf.getUnsignedByte(off + 9);
        int l4 = off + hl;
        if (buf.readableBytes() < hl + 8) {
            return false;
        }
        int port = proto == IpProtocol.ICMP ? buf.getUnsignedShort(l4 + 4) : buf.getUnsignedShort(l4 + 2);
        int m = findOutside(proto, buf.getInt(off + 16), port);
        return m >= 0 && (mInAddr[m] >>> 28) == V6_HOST_TAG;
    }

    /** Sum of the 16-bit words of an IPv6 address pair, folded. */
    private static int sum6(long aHi, long aLo, long bHi, long bLo) {
        long s = (aHi >>> 32) + (aHi & 0xFFFF_FFFFL) + (aLo >>> 32) + (aLo & 0xFFFF_FFFFL)
                + (bHi >>> 32) + (bHi & 0xFFFF_FFFFL) + (bLo >>> 32) + (bLo & 0xFFFF_FFFFL);
        return Checksums.fold(s);
    }

    private static int sum4(int a, int b) {
        return Checksums.fold((a & 0xFFFF_FFFFL) + (b & 0xFFFF_FFFFL));
    }

    /** A checksum after its pseudo-header sum changed from {@code oldSum} to {@code newSum} and a port changed. */
    private static int pseudoSwap(int ck, int oldSum, int newSum, int oldP, int newP) {
        long s = (~ck & 0xFFFF) + (~oldSum & 0xFFFF) + newSum + (~oldP & 0xFFFF) + newP;
        return ~Checksums.fold(s) & 0xFFFF;
    }

    /**
     * IPv6 → IPv4 (RFC 7915 §5, RFC 6146): TCP, UDP, ICMPv6 echo requests and ICMPv6 errors about translated
     * packets. Hop-by-hop, destination options and routing headers without segments left are skipped and not
     * translated (§5.1); a Fragment header means reassembly first ({@link #REASSEMBLE}). The IPv4 header is
     * written over the last 20 bytes in front of the transport header and the reader index moves.
     */
    private int outbound64(ByteBuf buf, int off, int port) {
        if (Ipv6.check(buf, off) < 0) {
            return drop(NatDropReason.MALFORMED);
        }
        int end = off + 40 + buf.getUnsignedShort(off + 4);
        int nh = buf.getUnsignedByte(off + 6);
        int hop = buf.getUnsignedByte(off + 7);
        long sHi = buf.getLong(off + 8);
        long sLo = buf.getLong(off + 16);
        long dHi = buf.getLong(off + 24);
        long dLo = buf.getLong(off + 32);
        int v4dst = nat64.extract(dHi, dLo);
        if ((v4dst >>> 24) == 0 || (v4dst >>> 24) == 127 || (v4dst >>> 28) >= 0xE) {
            return drop(NatDropReason.NOT_UNICAST);
        }
        if ((isOutside(v4dst) && !config.hairpinning) || Ip6.isMulticast(sHi) || Ip6.isUnspecified(sHi, sLo)) {
            return drop(isOutside(v4dst) ? NatDropReason.HAIRPIN_REFUSED : NatDropReason.NAT64_UNSUPPORTED);
        }
        if (hop <= 1) {
            return drop(NatDropReason.HOP_LIMIT);
        }
        int l4 = off + 40;
        for (int headers = 0; nh == IpProtocol.HOPOPT || nh == IpProtocol.IPV6_OPTS || nh == IpProtocol.IPV6_ROUTE
                || nh == IpProtocol.IPV6_FRAG; headers++) {
            if (nh == IpProtocol.IPV6_FRAG) {
                return fragment();
            }
            if (l4 + 8 > end || headers == 8) {
                return drop(NatDropReason.MALFORMED);
            }
            if (nh == IpProtocol.IPV6_ROUTE && buf.getUnsignedByte(l4 + 3) != 0) {
                return drop(NatDropReason.NAT64_UNSUPPORTED); // segments left: not for us to translate (§5.1)
            }
            nh = buf.getUnsignedByte(l4);
            l4 += (buf.getUnsignedByte(l4 + 1) + 1) << 3;
        }
        int ulen = end - l4;
        if (ulen < 0) {
            return drop(NatDropReason.MALFORMED);
        }
        int proto;
        int key;
        int rPort;
        switch (nh) {
            case IpProtocol.TCP, IpProtocol.UDP -> {
                if (ulen < minTransportLength(nh)) {
                    return drop(NatDropReason.MALFORMED);
                }
                proto = nh;
                key = buf.getUnsignedShort(l4);
                rPort = buf.getUnsignedShort(l4 + 2);
            }
            case IpProtocol.ICMPV6 -> {
                if (ulen < 8) {
                    return drop(NatDropReason.MALFORMED);
                }
                int type = buf.getUnsignedByte(l4);
                if (type >= 1 && type <= 4) {
                    return outbound64Error(buf, off, l4, end, port, hop, sHi, sLo);
                }
                if (type != 128) {
                    return drop(NatDropReason.UNSUPPORTED_ICMP);
                }
                proto = IpProtocol.ICMP;
                key = buf.getUnsignedShort(l4 + 4);
                rPort = 0;
            }
            default -> {
                return drop(NatDropReason.NAT64_UNSUPPORTED);
            }
        }
        int ns = portNs[port];
        int x = findV6Host(ns, sHi, sLo);
        boolean newHost = false;
        if (x < 0) {
            if (xFreeTop == 0) {
                return drop(NatDropReason.MAPPINGS_FULL);
            }
            x = newV6Host(ns, sHi, sLo);
            newHost = true;
        }
        int pseudo = (V6_HOST_TAG << 28) | x;
        int s = session(ns, port, proto, pseudo, key, v4dst, rPort);
        if (s < 0) {
            if (newHost && findV6Host(ns, sHi, sLo) == x && findHost(ns, pseudo) < 0) {
                freeV6Host(x); // no mapping was made for it (a refused session frees its host with its mapping)
            }
            return DROP;
        }
        int m = sMap[s];
        refresh(s, proto, proto == IpProtocol.TCP ? buf.getUnsignedByte(l4 + 13) : 0, true);
        mPort[m] = port;
        hPort[mHost[m]] = port;
        int outAddr = mOutAddr[m];
        int outPort = mOutPort[m];
        int tc = (buf.getInt(off) >>> 20) & 0xFF;
        if (proto == IpProtocol.ICMP) {
            buf.setByte(l4, Icmpv4.TYPE_ECHO_REQUEST);
            buf.setShort(l4 + 4, outPort);
            buf.setShort(l4 + 2, 0);
            buf.setShort(l4 + 2, Checksums.internet(buf, l4, ulen));
        } else {
            int ckAt = l4 + checksumOffset(proto);
            int neu = pseudoSwap(buf.getUnsignedShort(ckAt), sum6(sHi, sLo, dHi, dLo), sum4(outAddr, v4dst), key,
                    outPort);
            buf.setShort(ckAt, proto == IpProtocol.UDP && neu == 0 ? 0xFFFF : neu);
            buf.setShort(l4, outPort);
        }
        int o = l4 - 20;
        // RFC 7915 §5.1: DF only above 1260 bytes, so that a path MTU under 1280 can still fragment
        writeIpv4Header(buf, o, tc, 20 + ulen, 20 + ulen > 1260 ? Ipv4.FLAG_DF : 0, hop - 1, proto, outAddr, v4dst);
        buf.setIndex(o, end);
        if (isOutside(v4dst)) {
            int p = inbound(buf); // hairpinning (RFC 6146 §3.8): back in to the host behind that outside endpoint
            if (p >= 0) {
                counters.count(NatCounters.HAIRPIN);
            }
            return p;
        }
        counters.count(NatCounters.OUT);
        return TO_OUTSIDE;
    }

    private int newV6Host(int ns, long hi, long lo) {
        int x = xFree[--xFreeTop];
        xNs[x] = ns;
        xHi[x] = hi;
        xLo[x] = lo;
        v6Hosts.insert(OpenIndex.hash(hi ^ ns, lo), x);
        return x;
    }

    private void writeIpv4Header(ByteBuf buf, int o, int tos, int total, int flags, int ttl, int proto, int src,
                                 int dst) {
        buf.setByte(o, 0x45);
        buf.setByte(o + 1, tos);
        buf.setShort(o + 2, total);
        buf.setShort(o + 4, ipId++);
        buf.setShort(o + 6, flags);
        buf.setByte(o + 8, ttl);
        buf.setByte(o + 9, proto);
        buf.setShort(o + 10, 0);
        buf.setInt(o + 12, src);
        buf.setInt(o + 16, dst);
        buf.setShort(o + 10, Checksums.internet(buf, o, 20));
    }

    /**
     * RFC 7915 Figure 6: the ICMPv4 parameter problem pointer for an ICMPv6 one (an offset into the quoted IPv6
     * header), or -1 where the table says n/a (the flow label, anything past the fixed header).
     */
    static int pointer6to4(long p6) {
        if (p6 < 0 || p6 >= 40) {
            return -1;
        }
        int p = (int) p6;
        return switch (p) {
            case 0 -> 0;           // version / traffic class -> version / IHL
            case 1 -> 1;           // traffic class / flow label -> type of service
            case 2, 3 -> -1;       // flow label
            case 4, 5 -> 2;        // payload length -> total length
            case 6 -> 9;           // next header -> protocol
            case 7 -> 8;           // hop limit -> time to live
            default -> p < 24 ? 12 : 16; // source address, destination address
        };
    }

    /**
     * RFC 7915 Figure 3: the ICMPv6 parameter problem pointer for an ICMPv4 one (an offset into the quoted IPv4
     * header), or -1 where the table says n/a (identification, flags and fragment offset, header checksum,
     * options).
     */
    static int pointer4to6(int p4) {
        return switch (p4) {
            case 0 -> 0;           // version / IHL -> version / traffic class
            case 1 -> 1;           // type of service -> traffic class / flow label
            case 2, 3 -> 4;        // total length -> payload length
            case 8 -> 7;           // time to live -> hop limit
            case 9 -> 6;           // protocol -> next header
            case 12, 13, 14, 15 -> 8;  // source address
            case 16, 17, 18, 19 -> 24; // destination address
            default -> -1;         // identification, flags / offset, header checksum, options
        };
    }

    /**
     * An IPv6 host's ICMPv6 error about a packet NAT64 translated to it (RFC 7915 §5.2, RFC 6146 §3.4): it
     * becomes an ICMPv4 error from the host's outside address to the remote, the quoted IPv6 packet turned back
     * into the IPv4 packet the remote sent (addresses, the outside port, its checksum), cut to 576 bytes.
     * Destination unreachable (codes 0–4), packet too big (as fragmentation needed, MTU − 20), time exceeded,
     * parameter problem code 0 (as ICMPv4 parameter problem, its pointer through RFC 7915 Figure 6) and code 1 (as
     * protocol unreachable) are translated; parameter problem code 2 (unrecognized option), a pointer the table
     * lists as n/a, and other codes are dropped and counted (RFC 7915 §5.2: silently dropped). The quoted packet
     * must be TCP, UDP or an echo reply without extension headers.
     */
    private int outbound64Error(ByteBuf buf, int off, int l4, int end, int port, int hop, long sHi, long sLo) {
        int t6 = buf.getUnsignedByte(l4);
        int c6 = buf.getUnsignedByte(l4 + 1);
        int t4;
        int c4;
        int rest = 0;
        switch (t6) {
            case 1 -> {
                t4 = Icmpv4.TYPE_DESTINATION_UNREACHABLE;
                c4 = switch (c6) {
                    case 0, 2, 3 -> 1;  // host unreachable
                    case 1 -> 10;       // communication with the host administratively prohibited
                    case 4 -> 3;        // port unreachable
                    default -> -1;
                };
            }
            case 2 -> {
                t4 = Icmpv4.TYPE_DESTINATION_UNREACHABLE;
                c4 = Icmpv4.CODE_FRAGMENTATION_NEEDED;
                long mtu = buf.getUnsignedInt(l4 + 4) - 20;
                rest = (int) Math.max(68, Math.min(mtu, Math.min(config.outsideMtu, config.insideMtu - 20)));
            }
            case 3 -> {
                t4 = Icmpv4.TYPE_TIME_EXCEEDED;
                c4 = c6 <= 1 ? c6 : -1;
            }
            default -> { // 4: parameter problem
                if (c6 == 0) { // erroneous header field: the pointer moves to the IPv4 field it names
                    t4 = Icmpv4.TYPE_PARAMETER_PROBLEM;
                    int p4 = pointer6to4(buf.getUnsignedInt(l4 + 4));
                    c4 = p4 < 0 ? -1 : 0;
                    rest = p4 << 24;
                } else {
                    t4 = Icmpv4.TYPE_DESTINATION_UNREACHABLE;
                    c4 = c6 == 1 ? 2 : -1; // unrecognized next header -> protocol unreachable; option: dropped
                }
            }
        }
        int e = l4 + 8;
        if (c4 < 0) {
            return drop(NatDropReason.UNSUPPORTED_ICMP);
        }
        if (end - e < 48 || buf.getUnsignedByte(e) >>> 4 != 6) {
            return drop(NatDropReason.MALFORMED);
        }
        int enh = buf.getUnsignedByte(e + 6);
        long rHi = buf.getLong(e + 8);
        long rLo = buf.getLong(e + 16);
        if (buf.getLong(e + 24) != sHi || buf.getLong(e + 32) != sLo || !nat64.contains(rHi, rLo)) {
            return drop(NatDropReason.ICMP_NO_SESSION); // not about a packet translated to this host
        }
        int el4 = e + 40;
        int proto;
        int key;
        int rPort;
        if (enh == IpProtocol.TCP || enh == IpProtocol.UDP) {
            proto = enh;
            rPort = buf.getUnsignedShort(el4);
            key = buf.getUnsignedShort(el4 + 2);
        } else if (enh == IpProtocol.ICMPV6 && buf.getUnsignedByte(el4) == 129) {
            proto = IpProtocol.ICMP;
            rPort = 0;
            key = buf.getUnsignedShort(el4 + 4);
        } else {
            return drop(NatDropReason.UNSUPPORTED_ICMP);
        }
        int ns = portNs[port];
        int x = findV6Host(ns, sHi, sLo);
        int remote = nat64.extract(rHi, rLo);
        int m = x < 0 ? -1 : findInside(ns, (proto << 16) | key, (V6_HOST_TAG << 28) | x);
        if (m < 0 || findSession(m, remote, rPort) < 0) {
            return drop(NatDropReason.ICMP_NO_SESSION);
        }
        int outAddr = mOutAddr[m];
        int outPort = mOutPort[m];
        int eplen = buf.getUnsignedShort(e + 4);
        int start = el4 - 48;
        int stop = Math.min(end, start + 576);
        if (proto == IpProtocol.ICMP) {
            buf.setByte(el4, Icmpv4.TYPE_ECHO_REPLY);
            buf.setShort(el4 + 4, outPort);
            if (el4 + eplen <= stop) {
                buf.setShort(el4 + 2, 0);
                buf.setShort(el4 + 2, Checksums.internet(buf, el4, eplen));
            }
        } else {
            buf.setShort(el4 + 2, outPort);
            int ckAt = el4 + checksumOffset(proto);
            if (ckAt + 2 <= stop) {
                int neu = pseudoSwap(buf.getUnsignedShort(ckAt), sum6(rHi, rLo, sHi, sLo), sum4(remote, outAddr),
                        key, outPort);
                buf.setShort(ckAt, proto == IpProtocol.UDP && neu == 0 ? 0xFFFF : neu);
            }
        }
        int etc = (buf.getInt(e) >>> 20) & 0xFF;
        int ehop = buf.getUnsignedByte(e + 7);
        int tc = (buf.getInt(off) >>> 20) & 0xFF;
        writeIpv4Header(buf, el4 - 20, etc, 20 + eplen, 0, ehop, proto, remote, outAddr);
        int icmp = el4 - 28;
        buf.setByte(icmp, t4);
        buf.setByte(icmp + 1, c4);
        buf.setShort(icmp + 2, 0);
        buf.setInt(icmp + 4, rest);
        buf.setShort(icmp + 2, Checksums.internet(buf, icmp, stop - icmp));
        writeIpv4Header(buf, start, tc, stop - start, 0, hop - 1, IpProtocol.ICMP, outAddr, remote);
        buf.setIndex(start, stop);
        counters.count(NatCounters.OUT);
        return TO_OUTSIDE;
    }

    /**
     * IPv4 → IPv6 for a mapping of an IPv6 host: TCP, UDP (a zero checksum is computed, RFC 7915 §4.5) and
     * echo replies. The IPv6 header goes in front of the transport header, into the headroom.
     */
    private boolean inbound64(ByteBuf buf, int off, int l4, int proto, int src, int dst, int m, int ckOff,
                              int oldPort) {
        int hl = l4 - off;
        int plen = buf.getUnsignedShort(off + 2) - hl;
        int ttl = buf.getUnsignedByte(off + 8);
        if (ttl <= 1) {
            drop(NatDropReason.HOP_LIMIT);
            return false;
        }
        int tos = buf.getUnsignedByte(off + 1);
        int x = mInAddr[m] & 0x0FFF_FFFF;
        long hHi = xHi[x];
        long hLo = xLo[x];
        long sHi = nat64.embedHi(src);
        long sLo = nat64.embedLo(src);
        int inPort = mProtoInPort[m] & 0xFFFF;
        int nh;
        if (proto == IpProtocol.ICMP) {
            nh = IpProtocol.ICMPV6;
            buf.setByte(l4, 129);
            buf.setShort(l4 + 4, inPort);
        } else {
            nh = proto;
            int ckAt = l4 + ckOff;
            int ck = buf.getUnsignedShort(ckAt);
            buf.setShort(l4 + 2, inPort);
            if (proto == IpProtocol.UDP && ck == 0) {
                ckAt = -1; // computed below, over the IPv6 pseudo-header
            } else {
                int neu = pseudoSwap(ck, sum4(src, dst), sum6(sHi, sLo, hHi, hLo), oldPort, inPort);
                buf.setShort(ckAt, proto == IpProtocol.UDP && neu == 0 ? 0xFFFF : neu);
            }
            if (ckAt < 0) {
                Udp.fillChecksumV6(buf, l4, plen, sHi, sLo, hHi, hLo);
            }
        }
        int o = l4 - 40;
        buf.setInt(o, 0x6000_0000 | (tos << 20));
        buf.setShort(o + 4, plen);
        buf.setByte(o + 6, nh);
        buf.setByte(o + 7, ttl - 1);
        buf.setLong(o + 8, sHi);
        buf.setLong(o + 16, sLo);
        buf.setLong(o + 24, hHi);
        buf.setLong(o + 32, hLo);
        buf.setIndex(o, l4 + plen);
        if (nh == IpProtocol.ICMPV6) {
            buf.setShort(l4 + 2, 0);
            buf.setShort(l4 + 2, Checksums.finish(Checksums.partial(buf, l4, plen,
                    Checksums.pseudoHeaderV6(sHi, sLo, hHi, hLo, IpProtocol.ICMPV6, plen))));
        }
        return true;
    }

    /**
     * An ICMPv4 error about a NAT64-translated packet becomes an ICMPv6 error (RFC 7915 §4.2): destination
     * unreachable codes, fragmentation needed as Packet Too Big (MTU + 20, at least 1280), time exceeded,
     * parameter problem codes 0 and 2 as parameter problem code 0 with the pointer moved (Figure 3); the
     * embedded packet is translated back to the IPv6 packet the host sent, the message cut to 1280 bytes.
     */
    private boolean inbound64Error(ByteBuf buf, int off, int l4, int e, int ehl, int end, int eproto, int src,
                                   int m) {
        int type = buf.getUnsignedByte(l4);
        int code = buf.getUnsignedByte(l4 + 1);
        int t6;
        int c6;
        long rest = 0;
        if (type == Icmpv4.TYPE_DESTINATION_UNREACHABLE) {
            switch (code) {
                case 0, 1, 5, 6, 7, 8, 11, 12 -> {
                    t6 = 1;
                    c6 = 0;
                }
                case 3 -> {
                    t6 = 1;
                    c6 = 4;
                }
                case 4 -> {
                    t6 = 2;
                    c6 = 0;
                    int mtu = buf.getUnsignedShort(l4 + 6);
                    rest = Math.max(1280, Math.min(mtu == 0 ? 1280 : mtu + 20, config.insideMtu));
                }
                case 9, 10, 13, 15 -> {
                    t6 = 1;
                    c6 = 1;
                }
                case 2 -> {
                    t6 = 4;
                    c6 = 1;
                    rest = 6;
                }
                default -> {
                    drop(NatDropReason.UNSUPPORTED_ICMP);
                    return false;
                }
            }
        } else if (type == Icmpv4.TYPE_TIME_EXCEEDED) {
            t6 = 3;
            c6 = code;
        } else if (type == Icmpv4.TYPE_PARAMETER_PROBLEM && (code == 0 || code == 2)) {
            // pointer indicates the error / bad length: erroneous header field, the pointer through Figure 3;
            // code 1 (missing a required option) and n/a pointers are dropped (RFC 7915 §4.2)
            int p6 = pointer4to6(buf.getUnsignedByte(l4 + 4));
            if (p6 < 0) {
                drop(NatDropReason.UNSUPPORTED_ICMP);
                return false;
            }
            t6 = 4;
            c6 = 0;
            rest = p6;
        } else {
            drop(NatDropReason.UNSUPPORTED_ICMP);
            return false;
        }
        int x = mInAddr[m] & 0x0FFF_FFFF;
        long hHi = xHi[x];
        long hLo = xLo[x];
        long sHi = nat64.embedHi(src);
        long sLo = nat64.embedLo(src);
        int edst = buf.getInt(e + 16);
        long dHi = nat64.embedHi(edst);
        long dLo = nat64.embedLo(edst);
        int el4 = e + ehl;
        int epay = end - el4;
        int eplen = buf.getUnsignedShort(e + 2) - ehl; // the original's payload length
        int max = 1280 - 40 - 8 - 40;
        int quote = Math.min(epay, max);
        int total = 40 + 8 + 40 + quote;
        ByteBuf t = buf.alloc().heapBuffer(total);
        try {
            t.writeInt(0x6000_0000);
            t.writeShort(total - 40);
            t.writeByte(IpProtocol.ICMPV6);
            t.writeByte(Math.max(1, buf.getUnsignedByte(off + 8) - 1));
            t.writeLong(sHi).writeLong(sLo).writeLong(hHi).writeLong(hLo);
            t.writeByte(t6).writeByte(c6).writeShort(0).writeInt((int) rest);
            int enh = eproto == IpProtocol.ICMP ? IpProtocol.ICMPV6 : eproto;
            t.writeInt(0x6000_0000 | (buf.getUnsignedByte(e + 1) << 20));
            t.writeShort(eplen);
            t.writeByte(enh);
            t.writeByte(buf.getUnsignedByte(e + 8));
            t.writeLong(hHi).writeLong(hLo).writeLong(dHi).writeLong(dLo);
            int q = t.writerIndex();
            t.writeBytes(buf, el4, quote);
            int inPort = mProtoInPort[m] & 0xFFFF;
            if (eproto == IpProtocol.ICMP) {
                t.setByte(q, 128);
                t.setShort(q + 4, inPort);
            } else {
                int oldPort = t.getUnsignedShort(q);
                t.setShort(q, inPort);
                int ckAt = q + (eproto == IpProtocol.TCP ? 16 : 6);
                if (ckAt + 2 <= t.writerIndex()) {
                    int ck = t.getUnsignedShort(ckAt);
                    if (!(eproto == IpProtocol.UDP && ck == 0)) {
                        int neu = pseudoSwap(ck, sum4(buf.getInt(e + 12), edst), sum6(hHi, hLo, dHi, dLo), oldPort,
                                inPort);
                        t.setShort(ckAt, neu);
                    }
                }
            }
            t.setShort(42, Checksums.finish(Checksums.partial(t, 40, total - 40,
                    Checksums.pseudoHeaderV6(sHi, sLo, hHi, hLo, IpProtocol.ICMPV6, total - 40))));
            int start = end - total;
            if (start < 0) {
                start = 0;
            }
            buf.setBytes(start, t, 0, total);
            buf.setIndex(start, start + total);
        } finally {
            t.release();
        }
        return true;
    }

    // =====================================================================================================
    // checksums and ICMP payload rewriting
    // =====================================================================================================

    /** RFC 1624 update of a checksum covering a 32-bit address that changed. */
    private static int addressUpdate(int ck, int oldA, int newA) {
        long s = (~ck & 0xFFFF) + ((~oldA >>> 16) & 0xFFFF) + (~oldA & 0xFFFF) + (newA >>> 16) + (newA & 0xFFFF);
        return ~Checksums.fold(s) & 0xFFFF;
    }

    /**
     * Updates a TCP/UDP checksum at {@code at} for an address and a port change. A partial (offloaded) checksum
     * holds the folded pseudo-header sum, not complemented: only the address enters it. A zero UDP checksum
     * means "none" and stays zero.
     */
    private static void transportUpdate(ByteBuf buf, int at, int proto, int oldA, int newA, int oldP, int newP,
                                        boolean partial) {
        int ck = buf.getUnsignedShort(at);
        if (partial) {
            long s = ck + ((~oldA >>> 16) & 0xFFFF) + (~oldA & 0xFFFF) + (newA >>> 16) + (newA & 0xFFFF);
            buf.setShort(at, Checksums.fold(s));
            return;
        }
        if (proto == IpProtocol.UDP && ck == 0) {
            return;
        }
        long s = (~ck & 0xFFFF) + ((~oldA >>> 16) & 0xFFFF) + (~oldA & 0xFFFF) + (newA >>> 16) + (newA & 0xFFFF)
                + (~oldP & 0xFFFF) + newP;
        int neu = ~Checksums.fold(s) & 0xFFFF;
        if (proto == IpProtocol.UDP && neu == 0) {
            neu = 0xFFFF;
        }
        buf.setShort(at, neu);
    }

    /** Header length of the embedded IPv4 packet at {@code e} if its header and 8 bytes after it are there. */
    private static int embeddedHeader(ByteBuf buf, int e, int end) {
        if (end - e < 28 || buf.getUnsignedByte(e) >>> 4 != 4) {
            return -1;
        }
        int ehl = (buf.getUnsignedByte(e) & 0x0F) << 2;
        if (ehl < 20 || end - e < ehl + 8) {
            return -1;
        }
        return ehl;
    }

    /**
     * Rewrites the embedded packet's source (when {@code src}) or destination address and port, with its IP
     * header checksum and, where quoted, its transport checksum.
     */
    private static void rewriteEmbedded(ByteBuf buf, int e, int el4, int end, int eproto, boolean src, int oldA,
                                        int newA, int oldP, int newP) {
        buf.setInt(e + (src ? 12 : 16), newA);
        buf.setShort(e + 10, addressUpdate(buf.getUnsignedShort(e + 10), oldA, newA));
        if (eproto == IpProtocol.ICMP) {
            buf.setShort(el4 + 4, newP);
            if (end - el4 >= 4) {
                buf.setShort(el4 + 2, Checksums.incrementalUpdate16(buf.getUnsignedShort(el4 + 2), oldP, newP));
            }
            return;
        }
        buf.setShort(el4 + (src ? 0 : 2), newP);
        int ckAt = el4 + (eproto == IpProtocol.TCP ? 16 : 6);
        if (end - ckAt >= 2) {
            transportUpdate(buf, ckAt, eproto, oldA, newA, oldP, newP, false);
        }
    }

    private static void refillIcmpChecksum(ByteBuf buf, int l4, int l4len) {
        buf.setShort(l4 + 2, 0);
        buf.setShort(l4 + 2, Checksums.internet(buf, l4, l4len));
    }

    // =====================================================================================================
    // tables
    // =====================================================================================================

    private int findInside(int ns, int protoPort, int inAddr) {
        int[] slots = byInside.slots;
        int mask = byInside.mask;
        int i = insideHash(ns, protoPort, inAddr) & mask;
        while (true) {
            int v = slots[i];
            if (v == 0) {
                return -1;
            }
            int m = v - 1;
            if (mInAddr[m] == inAddr && mProtoInPort[m] == protoPort && mNs[m] == ns) {
                return m;
            }
            i = (i + 1) & mask;
        }
    }

    private int findOutside(int proto, int outAddr, int outPort) {
        return byOutside.find(outsideKey(proto, outAddr, outPort));
    }

    /** {@link #findOutside} for a caller's protocol and port, which may be out of range (then -1). */
    private int findOutsideChecked(int proto, int outAddr, int outPort) {
        return outsideInRange(proto, outPort) ? findOutside(proto, outAddr, outPort) : -1;
    }

    private int findSession(int m, int rAddr, int rPort) {
        int[] slots = sessions.slots;
        int mask = sessions.mask;
        int i = sessionHash(m, rAddr, rPort) & mask;
        while (true) {
            int v = slots[i];
            if (v == 0) {
                return -1;
            }
            int s = v - 1;
            if (sRAddr[s] == rAddr && sRPort[s] == rPort && sMap[s] == m) {
                return s;
            }
            i = (i + 1) & mask;
        }
    }

    private int findHost(int ns, int addr) {
        int[] slots = hosts.slots;
        int mask = hosts.mask;
        int i = hostHash(ns, addr) & mask;
        while (true) {
            int v = slots[i];
            if (v == 0) {
                return -1;
            }
            int h = v - 1;
            if (hAddr[h] == addr && hNs[h] == ns) {
                return h;
            }
            i = (i + 1) & mask;
        }
    }

    private boolean isOutside(int addr) {
        if (Integer.compareUnsigned(addr - outsideMin, outsideSpan) > 0) {
            return false; // outside [lowest, highest] outside address: one compare on the fast path
        }
        for (int a : outside) {
            if (a == addr) {
                return true;
            }
        }
        return false;
    }

    private boolean validPort(int p, int ns) {
        return p >= 0 && p < portCount && portNs[p] == ns;
    }

    private int singlePort(int ns) {
        int p = nsLastPort[ns];
        return validPort(p, ns) ? p : -1;
    }

    /** The inside port for mapping {@code m}: the port that last sent for it or its host, else any of its namespace. */
    private int targetPort(int m) {
        int ns = mNs[m];
        int p = mPort[m];
        if (validPort(p, ns)) {
            return p;
        }
        p = hPort[mHost[m]];
        return validPort(p, ns) ? p : singlePort(ns);
    }

    /**
     * Creates a mapping; returns -1 after counting the reason when a bound is reached or no port is free.
     * {@code wantOutPort} 0 means choose; {@code forcedOut} 0 means the host's paired outside address.
     */
    private int createMapping(int ns, int port, int proto, int inAddr, int inPort, int wantOutPort, int forcedOut) {
        if (mappingCount >= mFlags.length) {
            drop(NatDropReason.MAPPINGS_FULL);
            return -1;
        }
        if (nsMappings[ns] >= config.maxMappingsPerNamespace) {
            drop(NatDropReason.NAMESPACE_FULL);
            return -1;
        }
        int h = findHost(ns, inAddr);
        if (h >= 0 && hCount[h] >= config.maxMappingsPerHost) {
            drop(NatDropReason.HOST_FULL);
            return -1;
        }
        int outAddr = forcedOut != 0 ? forcedOut : h >= 0 ? outside[hOut[h]] : outside[pairedAddress(ns, inAddr)];
        int outPort = allocatePort(proto, outAddr, inPort, wantOutPort);
        if (outPort < 0) {
            drop(NatDropReason.PORTS_EXHAUSTED);
            return -1;
        }
        if (h < 0) {
            h = hFree[--hFreeTop];
            hNs[h] = ns;
            hAddr[h] = inAddr;
            hCount[h] = 0;
            hPort[h] = port;
            hOut[h] = pairedAddress(ns, inAddr);
            hosts.insert(hostHash(ns, inAddr), h);
        }
        hCount[h]++;
        int m = mFree[--mFreeTop];
        mNs[m] = ns;
        mProtoInPort[m] = (proto << 16) | inPort;
        mInAddr[m] = inAddr;
        mOutAddr[m] = outAddr;
        mOutPort[m] = outPort;
        mPort[m] = port;
        mHost[m] = h;
        mFlags[m] = F_USED;
        mSessHead[m] = -1;
        mSessCount[m] = 0;
        mRefs[m] = 0;
        byInside.insert(insideHash(ns, mProtoInPort[m], inAddr), m);
        byOutside.insert(outsideKey(proto, outAddr, outPort), m);
        mappingCount++;
        nsMappings[ns]++;
        counters.count(NatCounters.MAPPINGS_CREATED);
        if (listener != null) {
            listener.mappingCreated(snapshot(m));
        }
        return m;
    }

    private int pairedAddress(int ns, int inAddr) {
        return outside.length == 1 ? 0 : Math.floorMod(hostHash(ns, inAddr), outside.length);
    }

    /**
     * An outside port for a new mapping on {@code outAddr}: {@code want} if given (or -1 if taken); else the
     * inside port if free and in range (preservation); else a random free port of the same parity, else any.
     */
    private int allocatePort(int proto, int outAddr, int inPort, int want) {
        if (want != 0) {
            return findOutside(proto, outAddr, want) < 0 ? want : -1;
        }
        int min = proto == IpProtocol.ICMP ? 1 : config.portMin;
        int max = proto == IpProtocol.ICMP ? 65535 : config.portMax;
        if (config.portPreservation && inPort >= min && inPort <= max && findOutside(proto, outAddr, inPort) < 0) {
            return inPort;
        }
        int range = max - min + 1;
        boolean parity = config.portParity && proto != IpProtocol.ICMP && range > 1;
        // Random tries first: while an address has at most half its ports taken, a try succeeds with probability
        // one half or better, so the expected work per new mapping does not grow with the table (a scan from a
        // random start would walk the runs that port preservation leaves). Then a scan, for a nearly full range.
        for (int t = 0; t < PORT_TRIES; t++) {
            int p = min + (int) Math.floorMod(nextRandom(), (long) range);
            if (parity && ((p ^ inPort) & 1) != 0) {
                p ^= 1;
                if (p < min || p > max) {
                    continue;
                }
            }
            portProbes++;
            if (findOutside(proto, outAddr, p) < 0) {
                return p;
            }
        }
        int start = (int) Math.floorMod(nextRandom(), (long) range);
        for (int pass = parity ? 0 : 1; pass < 2; pass++) {
            for (int i = 0; i < range; i++) {
                int p = min + (start + i) % range;
                if (pass == 0 && ((p ^ inPort) & 1) != 0) {
                    continue;
                }
                portProbes++;
                if (findOutside(proto, outAddr, p) < 0) {
                    return p;
                }
            }
        }
        return -1;
    }

    /** Fixes the port-allocation random sequence (tests comparing two engines). */
    void seed(long seed) {
        random = seed == 0 ? 1 : seed;
    }

    private long nextRandom() {
        random ^= random << 13;
        random ^= random >>> 7;
        random ^= random << 17;
        return random;
    }

    private int createSession(int m, int rAddr, int rPort) {
        if (sFreeTop == 0 || mSessCount[m] >= config.maxSessionsPerMapping) {
            drop(NatDropReason.SESSIONS_FULL);
            return -1;
        }
        int s = sFree[--sFreeTop];
        if (s >= sHigh) {
            sHigh = s + 1;
        }
        sMap[s] = m;
        sRAddr[s] = rAddr;
        sRPort[s] = rPort;
        sState[s] = 0;
        sExpiry[s] = now + config.tcpTransitorySeconds;
        sPrev[s] = -1;
        sNext[s] = mSessHead[m];
        if (mSessHead[m] >= 0) {
            sPrev[mSessHead[m]] = s;
        }
        mSessHead[m] = s;
        mSessCount[m]++;
        sessions.insert(sessionHash(m, rAddr, rPort), s);
        sessionCount++;
        counters.count(NatCounters.SESSIONS_CREATED);
        return s;
    }

    /**
     * TCP state per RFC 5382 / RFC 7857: established once SYNs went both ways; a RST, or FINs both ways, make the
     * session transitory (4 min) again.
     */
    private void tcpTrack(int s, int flags, boolean out) {
        int st = sState[s];
        if ((flags & 0x04) != 0) {
            st |= T_RST;
        } else {
            if ((flags & 0x02) != 0) {
                if ((st & (T_RST | T_FIN_OUT | T_FIN_IN)) != 0 && (flags & 0x10) == 0) {
                    st = 0; // a new connection on a closed 4-tuple
                }
                st |= out ? T_SYN_OUT : T_SYN_IN;
                if ((st & (T_SYN_OUT | T_SYN_IN)) == (T_SYN_OUT | T_SYN_IN)) {
                    st |= T_EST;
                }
            }
            if ((flags & 0x01) != 0) {
                st |= out ? T_FIN_OUT : T_FIN_IN;
            }
        }
        sState[s] = st;
        boolean established = (st & T_EST) != 0 && (st & T_RST) == 0
                && (st & (T_FIN_OUT | T_FIN_IN)) != (T_FIN_OUT | T_FIN_IN);
        sExpiry[s] = now + (established ? config.tcpEstablishedSeconds : config.tcpTransitorySeconds);
    }

    private void removeSession(int s) {
        int m = sMap[s];
        sessions.remove(s);
        int prev = sPrev[s];
        int next = sNext[s];
        if (prev >= 0) {
            sNext[prev] = next;
        } else {
            mSessHead[m] = next;
        }
        if (next >= 0) {
            sPrev[next] = prev;
        }
        mSessCount[m]--;
        if (sHelp[s] >= 0) {
            unhelp(s);
        }
        sMap[s] = -1;
        sFree[sFreeTop++] = s;
        sessionCount--;
        counters.count(NatCounters.SESSIONS_EXPIRED);
        releaseIfIdle(m);
    }

    private void releaseIfIdle(int m) {
        if (mSessCount[m] == 0 && mRefs[m] == 0 && (mFlags[m] & F_PERMANENT) == 0 && (mFlags[m] & F_USED) != 0) {
            freeMapping(m);
            counters.count(NatCounters.MAPPINGS_EXPIRED);
        }
    }

    private void removeMapping(int m) {
        while (mSessHead[m] >= 0) {
            int s = mSessHead[m];
            mRefs[m]++; // keep m while its sessions go
            removeSession(s);
            mRefs[m]--;
        }
        freeMapping(m);
    }

    private void freeMapping(int m) {
        NatMapping snap = listener != null ? snapshot(m) : null;
        byInside.remove(m);
        byOutside.remove(outsideKey(mProtoInPort[m] >>> 16, mOutAddr[m], mOutPort[m]));
        int h = mHost[m];
        if (--hCount[h] == 0) {
            hosts.remove(h);
            hFree[hFreeTop++] = h;
            if ((hAddr[h] >>> 28) == V6_HOST_TAG) {
                freeV6Host(hAddr[h] & 0x0FFF_FFFF);
            }
        }
        nsMappings[mNs[m]]--;
        if ((mFlags[m] & F_PERMANENT) != 0) {
            staticCount--;
        }
        if ((mFlags[m] & F_LEASED) != 0) {
            dropLease(m);
            staticCount--;
        }
        if ((mFlags[m] & F_FILTERED) != 0) {
            remoteFilters.remove(m);
        }
        mFlags[m] = 0;
        mFree[mFreeTop++] = m;
        mappingCount--;
        if (snap != null) {
            listener.mappingRemoved(snap);
        }
    }

    private NatMapping snapshot(int m) {
        return new NatMapping(mNs[m], mProtoInPort[m] >>> 16, mInAddr[m], mProtoInPort[m] & 0xFFFF, mOutAddr[m],
                mOutPort[m], (mFlags[m] & F_PERMANENT) != 0);
    }

    private int drop(NatDropReason reason) {
        counters.drop(reason);
        return DROP;
    }

    // =====================================================================================================
    // helpers (ALGs)
    // =====================================================================================================

    /**
     * Installs connection-tracking helpers (replacing any installed; sessions helped so far become unhelped):
     * new IPv4 TCP/UDP sessions are offered to them in order ({@link NatHelper#claims}), at most
     * {@code maxHelpedSessions} at a time (further claims are refused and counted in
     * {@link #helperSessionsRefused()}; the session then runs unhelped).
     *
     * @param maxGrowth how many bytes a helper may add to one packet
     */
    public void helpers(int maxHelpedSessions, int maxGrowth, NatHelper... list) {
        if (maxHelpedSessions < 1 || maxGrowth < 0) {
            throw new IllegalArgumentException("maxHelpedSessions must be positive, maxGrowth not negative");
        }
        for (int s = 0; s < sHelp.length; s++) {
            if (sHelp[s] >= 0) {
                unhelp(s);
            }
        }
        helpers = list.length == 0 ? NO_HELPERS : list.clone();
        hlHelper = new int[maxHelpedSessions];
        hlPos = new int[2 * maxHelpedSessions];
        hlBefore = new int[2 * maxHelpedSessions];
        hlAfter = new int[2 * maxHelpedSessions];
        hlFree = freeList(maxHelpedSessions);
        hlFreeTop = maxHelpedSessions;
        helperPacket = new HelperPacket(this, maxGrowth);
    }

    /** Installs (or with null removes) the helper for one other IP protocol (GRE for PPTP). */
    public void protocolHelper(ProtocolHelper helper) {
        protocolHelper = helper;
    }

    /**
     * The inside port an inside host was last seen on (where inbound packets for it go), or -1; for
     * {@link ProtocolHelper}s.
     */
    public int portOf(int ns, int insideAddress) {
        int h = findHost(ns, insideAddress);
        if (h >= 0 && validPort(hPort[h], ns)) {
            return hPort[h];
        }
        return ns >= 0 && ns < nsOpen.length && nsOpen[ns] ? singlePort(ns) : -1;
    }

    /** The bound on helped sessions set by {@link #helpers} (0 before). */
    public int maxHelpedSessions() {
        return hlHelper.length;
    }

    /** Sessions a helper claimed but could not have (the helped-session table was full). */
    public long helperSessionsRefused() {
        return helperSessionsRefused;
    }

    /** Packets dropped because a helper threw (a bug in it). */
    public long helperErrors() {
        return helperErrors;
    }

    /** Live helped sessions. */
    public int helpedSessionCount() {
        return hlHelper.length - hlFreeTop;
    }

    private void claim(int s, boolean fromOutside) {
        int m = sMap[s];
        int proto = mProtoInPort[m] >>> 16;
        if ((mInAddr[m] >>> 28) == V6_HOST_TAG || (proto != IpProtocol.TCP && proto != IpProtocol.UDP)) {
            return;
        }
        for (int i = 0; i < helpers.length; i++) {
            if (helpers[i].claims(mNs[m], proto, mInAddr[m], mProtoInPort[m] & 0xFFFF, sRAddr[s], sRPort[s], fromOutside)) {
                if (hlFreeTop == 0) {
                    helperSessionsRefused++;
                    return;
                }
                int h = hlFree[--hlFreeTop];
                hlHelper[h] = i;
                hlPos[2 * h] = hlPos[2 * h + 1] = 0;
                hlBefore[2 * h] = hlBefore[2 * h + 1] = 0;
                hlAfter[2 * h] = hlAfter[2 * h + 1] = 0;
                sHelp[s] = h;
                return;
            }
        }
    }

    private void unhelp(int s) {
        int h = sHelp[s];
        sHelp[s] = -1;
        hlFree[hlFreeTop++] = h;
        helpers[hlHelper[h]].sessionRemoved(h);
    }

    /**
     * A packet of a helped session, before translation: its payload to the helper, then lengths and checksums
     * fixed if the helper changed it, then the TCP sequence offsets applied (Linux's {@code nf_nat_seq_adjust}
     * and {@code nf_nat_sack_adjust}). Returns -1 to drop, 1 when the transport checksum was recomputed in full
     * (a partial one is complete now), else 0.
     */
    private int helped(ByteBuf buf, int off, int l4, int proto, int s, int h, boolean out, boolean partial) {
        int end = off + buf.getUnsignedShort(off + 2);
        boolean tcp = proto == IpProtocol.TCP;
        int dataAt = tcp ? l4 + ((buf.getUnsignedByte(l4 + 12) >>> 4) << 2) : l4 + 8;
        if (dataAt > end || (tcp && dataAt < l4 + 20)) {
            return drop(NatDropReason.MALFORMED);
        }
        int result = 0;
        int dir = out ? 0 : 1;
        if (dataAt < end && helpers[hlHelper[h]].wants(buf, dataAt, end - dataAt, out)) {
            int m = sMap[s];
            int seq = tcp ? buf.getInt(l4 + 4) : 0;
            HelperPacket p = helperPacket;
            p.reset(buf, off, dataAt, end - dataAt, out, proto, mNs[m], mInAddr[m], mProtoInPort[m] & 0xFFFF,
                    mOutAddr[m], mOutPort[m], sRAddr[s], sRPort[s], seq & 0xFFFF_FFFFL);
            boolean keep;
            try {
                keep = helpers[hlHelper[h]].packet(p, h);
            } catch (RuntimeException e) {
                helperErrors++;
                keep = false;
            }
            if (sMap[s] < 0 || sHelp[s] != h) {
                return drop(NatDropReason.MALFORMED); // the helper ended its own session: refused
            }
            if (!keep) {
                return DROP;
            }
            if (p.edited) {
                refill(buf, off, l4, proto);
                result = 1;
                if (tcp && p.delta != 0) {
                    int i = 2 * h + dir;
                    // nf_ct_seqadj_set: one correction position per direction, the latest change wins
                    if (hlBefore[i] == hlAfter[i] || seq - hlPos[i] > 0) {
                        hlPos[i] = seq;
                        hlBefore[i] = hlAfter[i];
                        hlAfter[i] += p.delta;
                    }
                }
            }
        }
        if (tcp && (hlAfter[2 * h] != 0 || hlAfter[2 * h + 1] != 0)) {
            seqAdjust(buf, l4, dataAt, h, dir, partial && result == 0);
        }
        return result;
    }

    /** After a payload change: IP header checksum (the total length is set), UDP length, transport checksum. */
    private static void refill(ByteBuf buf, int off, int l4, int proto) {
        int total = buf.getUnsignedShort(off + 2);
        Ipv4.fillChecksum(buf, off);
        int len = off + total - l4;
        int ckAt = l4 + checksumOffset(proto);
        if (proto == IpProtocol.UDP) {
            buf.setShort(l4 + 4, len);
        }
        buf.setShort(ckAt, 0);
        long pseudo = Checksums.pseudoHeaderV4(buf.getInt(off + 12), buf.getInt(off + 16), proto, len);
        int ck = Checksums.finish(Checksums.partial(buf, l4, len, pseudo));
        buf.setShort(ckAt, proto == IpProtocol.UDP && ck == 0 ? 0xFFFF : ck);
    }

    /** Applies the helped session's sequence offsets to seq, ack and SACK blocks, the checksum updated. */
    private void seqAdjust(ByteBuf buf, int l4, int dataAt, int h, int dir, boolean partial) {
        int me = 2 * h + dir;
        int other = 2 * h + (1 - dir);
        int ckAt = l4 + 16;
        int ck = buf.getUnsignedShort(ckAt);
        int seq = buf.getInt(l4 + 4);
        int nseq = seq + (seq - hlPos[me] > 0 ? hlAfter[me] : hlBefore[me]);
        if (nseq != seq) {
            buf.setInt(l4 + 4, nseq);
            ck = Checksums.incrementalUpdate32(ck, seq, nseq);
        }
        if ((buf.getUnsignedByte(l4 + 13) & 0x10) != 0) {
            int ack = buf.getInt(l4 + 8);
            int nack = unshift(ack, other);
            if (nack != ack) {
                buf.setInt(l4 + 8, nack);
                ck = Checksums.incrementalUpdate32(ck, ack, nack);
            }
            // SACK blocks (RFC 2018) acknowledge the other direction's data, as the ack does
            for (int o = l4 + 20; o < dataAt; ) {
                int kind = buf.getUnsignedByte(o);
                if (kind == 0) {
                    break;
                }
                if (kind == 1) {
                    o++;
                    continue;
                }
                if (o + 1 >= dataAt) {
                    break;
                }
                int len = buf.getUnsignedByte(o + 1);
                if (len < 2 || o + len > dataAt) {
                    break;
                }
                if (kind == 5) {
                    for (int b = o + 2; b + 4 <= o + len; b += 4) {
                        int v = buf.getInt(b);
                        int nv = unshift(v, other);
                        if (nv != v) {
                            buf.setInt(b, nv);
                            ck = Checksums.incrementalUpdate32(ck, v, nv);
                        }
                    }
                }
                o += len;
            }
        }
        if (!partial) {
            buf.setShort(ckAt, ck);
        }
    }

    /** A sequence number of direction slot {@code i} as the peer acknowledges it, back in its sender's space. */
    private int unshift(int v, int i) {
        return v - (v - hlBefore[i] - hlPos[i] > 0 ? hlAfter[i] : hlBefore[i]);
    }

    // =====================================================================================================
    // time
    // =====================================================================================================

    /**
     * Sets the clock to {@code nowSeconds} (monotonic, any origin) and removes sessions, mappings and
     * expectations that are due. {@link Nat} calls it once a second. The work is bounded: the session table is
     * walked with a cursor, at most {@link NatConfig.Builder#expiryScanPerTick} slots per call (plus the removals
     * among them), so a due session goes within {@code ceil(maxSessions / expiryScanPerTick)} calls; the
     * expectation table ({@code maxExpectations}, only while any is pending) and the opened mappings
     * ({@link #openMapping}, at most {@code maxStaticMappings}) are checked whole.
     */
    public void tick(int nowSeconds) {
        now = nowSeconds;
        int high = sHigh;
        int budget = Math.min(config.expiryScanPerTick, high);
        int c = expiryCursor;
        for (int i = 0; i < budget; i++) {
            if (c >= high) {
                c = 0;
            }
            if (sMap[c] >= 0 && sExpiry[c] - nowSeconds <= 0) {
                removeSession(c);
            }
            c++;
        }
        expiryCursor = c;
        expiryVisits += budget;
        lastTickVisits = budget;
        if (expectCount > 0) {
            for (int i = 0; i < expects.length; i++) {
                if (expects[i] != null && eExpiry[i] - nowSeconds <= 0) {
                    removeExpectation(i);
                }
            }
        }
        for (int i = leaseCount - 1; i >= 0; i--) {
            if (i < leaseCount && lExpiry[i] - nowSeconds <= 0) {
                closeLeased(lMap[i]);
            }
        }
    }

    // =====================================================================================================
    // expectations
    // =====================================================================================================

    /**
     * Announces a related flow (see {@link Expectation}). The inside endpoint's existing mapping is used if it
     * has one (its outside port then wins over {@link Expectation#outsidePort}); else a mapping is created, with
     * the requested outside port or by the usual choice. The mapping stays while the expectation is pending.
     *
     * @return the reserved outside endpoint, or {@code null} when refused (bounds: {@code maxExpectations} in
     *         total, {@code maxExpectationsPerFlow} per master; mapping bounds; the requested port taken), counted
     *         in {@link NatCounters#expectationsRefused()}
     */
    public ExpectedFlow expect(Expectation e) {
        int ns = e.namespace();
        checkNamespace(ns);
        int perMaster = 0;
        int free = -1;
        for (int i = 0; i < expects.length; i++) {
            if (expects[i] == null) {
                if (free < 0) {
                    free = i;
                }
            } else if (expects[i].expectation.master().equals(e.master())) {
                perMaster++;
            }
        }
        if (free < 0 || perMaster >= config.maxExpectationsPerFlow) {
            counters.count(NatCounters.EXPECTATIONS_REFUSED);
            return null;
        }
        int proto = e.protocol();
        int m = findInside(ns, (proto << 16) | e.insidePort(), e.insideAddress());
        if (m < 0) {
            m = createMapping(ns, -1, proto, e.insideAddress(), e.insidePort(), e.outsidePort(), 0);
            if (m < 0) {
                counters.count(NatCounters.EXPECTATIONS_REFUSED);
                return null;
            }
        }
        mRefs[m]++;
        ExpectedFlow f = new ExpectedFlow(this, e, mOutAddr[m], mOutPort[m], free);
        expects[free] = f;
        eMap[free] = m;
        eExpiry[free] = now + (int) Math.max(1, Math.min(Integer.MAX_VALUE / 2, e.timeout().toSeconds()));
        expectCount++;
        return f;
    }

    /** Pending expectations; a snapshot. */
    public List<ExpectedFlow> expectations() {
        List<ExpectedFlow> l = new ArrayList<>();
        for (ExpectedFlow f : expects) {
            if (f != null) {
                l.add(f);
            }
        }
        return l;
    }

    private boolean matchExpectation(int m, int src, int sport) {
        for (int i = 0; i < expects.length; i++) {
            ExpectedFlow f = expects[i];
            if (f != null && eMap[i] == m) {
                Expectation x = f.expectation;
                if ((x.remoteAddress() == 0 || x.remoteAddress() == src)
                        && (x.remotePort() == 0 || x.remotePort() == sport)) {
                    f.matched = true;
                    mRefs[m]++; // keep m until the session exists
                    removeExpectation(i);
                    mRefs[m]--;
                    counters.count(NatCounters.EXPECTATIONS_MATCHED);
                    return true;
                }
            }
        }
        return false;
    }

    void removeExpectation(int i) {
        ExpectedFlow f = expects[i];
        if (f == null) {
            return;
        }
        expects[i] = null;
        f.pending = false;
        expectCount--;
        int m = eMap[i];
        mRefs[m]--;
        releaseIfIdle(m);
    }

    // =====================================================================================================
    // static mappings, port forwards, address mappings
    // =====================================================================================================

    /**
     * Adds a permanent mapping of (namespace, protocol, inside address, inside port) to (outside address,
     * outside port). With {@code open} it is a port forward: any remote may open a session to it; without, the
     * configured filtering applies and it only fixes the outbound translation.
     *
     * @param outsideAddress one of the outside addresses, or 0 for the first
     * @return the mapping
     * @throws IllegalStateException if the outside endpoint or the inside endpoint is already mapped, or the
     *         static bound is reached
     */
    public NatMapping addStaticMapping(int ns, int protocol, int insideAddress, int insidePort, int outsideAddress,
                                       int outsidePort, boolean open) {
        checkNamespace(ns);
        if ((insideAddress >>> 28) == V6_HOST_TAG) {
            throw new IllegalArgumentException("not an inside address: " + Ip4.format(insideAddress));
        }
        return addStatic(ns, protocol, insideAddress, insidePort, outsideAddress, outsidePort, open);
    }

    /**
     * {@link #addStaticMapping} for an IPv6 host behind NAT64 (RFC 6146 §3.5: static bindings): inbound IPv4 to
     * the outside endpoint is translated to {@code [insideHi:insideLo]:insidePort}, from the remote's address
     * under the NAT64 prefix. The snapshot's inside address is the host's pseudo address (240.0.0.0/4).
     *
     * @throws IllegalStateException as {@link #addStaticMapping}, or when NAT64 is off or its host table full
     */
    public NatMapping addStaticMapping6(int ns, int protocol, long insideHi, long insideLo, int insidePort,
                                        int outsideAddress, int outsidePort, boolean open) {
        checkNamespace(ns);
        if (nat64 == null) {
            throw new IllegalStateException("NAT64 is off");
        }
        int x = findV6Host(ns, insideHi, insideLo);
        boolean newHost = x < 0;
        if (newHost) {
            if (xFreeTop == 0) {
                throw new IllegalStateException("NAT64 host table full");
            }
            x = newV6Host(ns, insideHi, insideLo);
        }
        try {
            return addStatic(ns, protocol, (V6_HOST_TAG << 28) | x, insidePort, outsideAddress, outsidePort, open);
        } catch (RuntimeException e) {
            if (newHost) {
                freeV6Host(x);
            }
            throw e;
        }
    }

    private NatMapping addStatic(int ns, int protocol, int insideAddress, int insidePort, int outsideAddress,
                                 int outsidePort, boolean open) {
        if (protocol != IpProtocol.TCP && protocol != IpProtocol.UDP) {
            throw new IllegalArgumentException("static mappings are for TCP or UDP");
        }
        if (insidePort < 1 || insidePort > 65535 || outsidePort < 1 || outsidePort > 65535) {
            throw new IllegalArgumentException("port out of range");
        }
        int out = outsideAddress == 0 ? outside[0] : outsideAddress;
        if (!isOutside(out)) {
            throw new IllegalArgumentException("not an outside address: " + Ip4.format(out));
        }
        if (staticCount + addressMappings >= config.maxStatic) {
            throw new IllegalStateException("static mappings full (" + config.maxStatic + ")");
        }
        if (findOutside(protocol, out, outsidePort) >= 0) {
            throw new IllegalStateException("outside " + Ip4.format(out) + ":" + outsidePort + " is mapped");
        }
        if (findInside(ns, (protocol << 16) | insidePort, insideAddress) >= 0) {
            throw new IllegalStateException("inside endpoint port " + insidePort + " is mapped");
        }
        int m = createMapping(ns, -1, protocol, insideAddress, insidePort, outsidePort, out);
        if (m < 0) {
            throw new IllegalStateException("mapping refused by the NAT's bounds: " + counters.drops());
        }
        mFlags[m] |= F_PERMANENT | (open ? F_OPEN : 0);
        staticCount++;
        return snapshot(m);
    }

    /**
     * Opens the existing dynamic mapping of an inside endpoint for inbound traffic, as RFC 6886 §3.3 and RFC 6887
     * §11.3 want when a host asks to map a port it already sends from: the mapping keeps its outside endpoint, any
     * remote may open a session to it (endpoint-independent filtering for this mapping), and it is held (not
     * released when its sessions expire) for {@code lifetimeSeconds} on the engine's clock, or until
     * {@link #closeMapping}. Asking again renews the lifetime. An opened mapping counts against
     * {@code maxStaticMappings} as a port forward does.
     *
     * @return the mapping's outside port, or -1 if the endpoint has no dynamic mapping (none, or a static one)
     * @throws IllegalStateException if the static bound is reached
     */
    public int openMapping(int ns, int protocol, int insideAddress, int insidePort, int lifetimeSeconds) {
        checkNamespace(ns);
        if (protocol != IpProtocol.TCP && protocol != IpProtocol.UDP) {
            throw new IllegalArgumentException("opened mappings are for TCP or UDP");
        }
        int m = findInside(ns, (protocol << 16) | insidePort, insideAddress);
        if (m < 0 || (mFlags[m] & F_PERMANENT) != 0) {
            return -1;
        }
        int expiry = now + Math.max(1, Math.min(Integer.MAX_VALUE / 2, lifetimeSeconds));
        if ((mFlags[m] & F_LEASED) != 0) {
            lExpiry[leaseIndex(m)] = expiry;
            return mOutPort[m];
        }
        if (staticCount + addressMappings >= config.maxStatic) {
            throw new IllegalStateException("static mappings full (" + config.maxStatic + ")");
        }
        mFlags[m] |= F_OPEN | F_LEASED;
        mRefs[m]++;
        staticCount++;
        lMap[leaseCount] = m;
        lExpiry[leaseCount] = expiry;
        leaseCount++;
        return mOutPort[m];
    }

    /**
     * Ends {@link #openMapping} for an inside endpoint: the mapping is filtered as configured again and is
     * released once it has no sessions (sessions that remotes opened while it was open live on, with their own
     * timeouts). Returns whether it was open.
     */
    public boolean closeMapping(int ns, int protocol, int insideAddress, int insidePort) {
        checkNamespace(ns);
        int m = findInside(ns, (protocol << 16) | insidePort, insideAddress);
        if (m < 0 || (mFlags[m] & F_LEASED) == 0) {
            return false;
        }
        closeLeased(m);
        return true;
    }

    /**
     * Restricts which remotes may open new inbound sessions on the static mapping, port forward or opened mapping
     * ({@link #openMapping}) of an inside endpoint: PCP's FILTER option (RFC 6887 §13.3). With filters, a new
     * session (a TCP SYN, a UDP datagram without a session) is admitted only from a remote some filter matches (or
     * through a matching expectation), whatever the mapping is open to otherwise; others are dropped as
     * {@link NatDropReason#REMOTE_FILTERED}. Sessions that exist go on. An empty list removes the filters. The
     * filters go with the mapping, and with the opening when {@link #closeMapping} ends it.
     *
     * @return false when the endpoint has no static or opened mapping
     */
    public boolean setRemoteFilters(int ns, int protocol, int insideAddress, int insidePort,
                                    java.util.List<RemoteFilter> filters) {
        checkNamespace(ns);
        int m = findInside(ns, (protocol << 16) | insidePort, insideAddress);
        if (m < 0 || (mFlags[m] & (F_PERMANENT | F_LEASED)) == 0) {
            return false;
        }
        if (filters.isEmpty()) {
            if ((mFlags[m] & F_FILTERED) != 0) {
                remoteFilters.remove(m);
                mFlags[m] &= ~F_FILTERED;
            }
            return true;
        }
        if (remoteFilters == null) {
            remoteFilters = new RemoteFilterTable(config.maxStatic);
        }
        if (!remoteFilters.set(m, filters)) {
            throw new IllegalStateException("remote filter table full"); // at most one per static/opened mapping
        }
        mFlags[m] |= F_FILTERED;
        return true;
    }

    /** The remote filters of an inside endpoint's mapping ({@link #setRemoteFilters}); empty when it has none. */
    public java.util.List<RemoteFilter> remoteFilters(int ns, int protocol, int insideAddress, int insidePort) {
        int m = findInside(ns, (protocol << 16) | insidePort, insideAddress);
        if (m < 0 || (mFlags[m] & F_FILTERED) == 0) {
            return java.util.List.of();
        }
        return remoteFilters.of(m);
    }

    /** Whether the inside endpoint's dynamic mapping is opened by {@link #openMapping}. */
    public boolean isOpened(int ns, int protocol, int insideAddress, int insidePort) {
        int m = findInside(ns, (protocol << 16) | insidePort, insideAddress);
        return m >= 0 && (mFlags[m] & F_LEASED) != 0;
    }

    private void closeLeased(int m) {
        dropLease(m);
        if ((mFlags[m] & F_FILTERED) != 0) {
            remoteFilters.remove(m);
        }
        mFlags[m] &= ~(F_OPEN | F_LEASED | F_FILTERED);
        staticCount--;
        mRefs[m]--;
        releaseIfIdle(m);
    }

    private int leaseIndex(int m) {
        for (int i = 0; i < leaseCount; i++) {
            if (lMap[i] == m) {
                return i;
            }
        }
        throw new IllegalStateException("opened mapping without its lease");
    }

    private void dropLease(int m) {
        int i = leaseIndex(m);
        leaseCount--;
        lMap[i] = lMap[leaseCount];
        lExpiry[i] = lExpiry[leaseCount];
    }

    /** Removes a static mapping or port forward; returns whether there was one. Its sessions go with it. */
    public boolean removeStaticMapping(int protocol, int outsideAddress, int outsidePort) {
        int out = outsideAddress == 0 ? outside[0] : outsideAddress;
        int m = findOutsideChecked(protocol, out, outsidePort);
        if (m < 0 || (mFlags[m] & F_PERMANENT) == 0) {
            return false;
        }
        removeMapping(m);
        return true;
    }

    /**
     * Translates protocols other than TCP, UDP and ICMP (GRE, ESP, SCTP, ...) for one inside host by address only:
     * its source becomes {@code outsideAddress} going out, and packets of those protocols to {@code outsideAddress}
     * come back to it. Only the IPv4 header checksum is updated, so a protocol whose checksum covers the
     * pseudo-header (SCTP uses CRC32c without one; UDP-Lite and DCCP do) is not fixed.
     *
     * @throws IllegalStateException if the outside address is used by another address mapping or the bound is hit
     */
    public void addAddressMapping(int ns, int insideAddress, int outsideAddress) {
        checkNamespace(ns);
        if (!isOutside(outsideAddress)) {
            throw new IllegalArgumentException("not an outside address: " + Ip4.format(outsideAddress));
        }
        for (int i = 0; i < addressMappings; i++) {
            if (aOut[i] == outsideAddress || (aNs[i] == ns && aIn[i] == insideAddress)) {
                throw new IllegalStateException("address mapping exists for " + Ip4.format(outsideAddress));
            }
        }
        if (staticCount + addressMappings >= config.maxStatic) {
            throw new IllegalStateException("static mappings full (" + config.maxStatic + ")");
        }
        aNs[addressMappings] = ns;
        aIn[addressMappings] = insideAddress;
        aOut[addressMappings] = outsideAddress;
        addressMappings++;
    }

    /** Removes an address mapping; returns whether there was one. */
    public boolean removeAddressMapping(int outsideAddress) {
        for (int i = 0; i < addressMappings; i++) {
            if (aOut[i] == outsideAddress) {
                removeAddressAt(i);
                return true;
            }
        }
        return false;
    }

    private void removeAddressAt(int i) {
        addressMappings--;
        aNs[i] = aNs[addressMappings];
        aIn[i] = aIn[addressMappings];
        aOut[i] = aOut[addressMappings];
    }

    // =====================================================================================================
    // inspection (control path; allocates)
    // =====================================================================================================

    /** All live mappings; a snapshot. */
    public List<NatMapping> mappings() {
        List<NatMapping> l = new ArrayList<>();
        for (int m = 0; m < mFlags.length; m++) {
            if ((mFlags[m] & F_USED) != 0) {
                l.add(snapshot(m));
            }
        }
        return l;
    }

    /** Whether an outside endpoint is mapped: one primitive look-up, allocation-free (for ALGs and benchmarks). */
    public boolean isMapped(int protocol, int outsideAddress, int outsidePort) {
        return findOutsideChecked(protocol, outsideAddress, outsidePort) >= 0;
    }

    /** The mapping of an inside endpoint, or null. */
    public NatMapping mappingOf(int ns, int protocol, int insideAddress, int insidePort) {
        int m = findInside(ns, (protocol << 16) | insidePort, insideAddress);
        return m < 0 ? null : snapshot(m);
    }

    /** The mapping of an outside endpoint, or null. */
    public NatMapping mappingAt(int protocol, int outsideAddress, int outsidePort) {
        int m = findOutsideChecked(protocol, outsideAddress, outsidePort);
        return m < 0 ? null : snapshot(m);
    }

    /** Sessions of a mapping's outside endpoint (remote endpoints it talks to), for tests and tools. */
    public int sessionsOf(int protocol, int outsideAddress, int outsidePort) {
        int m = findOutsideChecked(protocol, outsideAddress, outsidePort);
        return m < 0 ? 0 : mSessCount[m];
    }

    /** Whether the session's TCP state counts as established (RFC 5382 timeout); false if none. */
    public boolean isEstablished(FlowKey k) {
        int m = findInside(k.namespace(), (k.protocol() << 16) | k.insidePort(), k.insideAddress());
        if (m < 0) {
            return false;
        }
        int s = findSession(m, k.remoteAddress(), k.remotePort());
        if (s < 0) {
            return false;
        }
        int st = sState[s];
        return (st & T_EST) != 0 && (st & T_RST) == 0 && (st & (T_FIN_OUT | T_FIN_IN)) != (T_FIN_OUT | T_FIN_IN);
    }

    /** Seconds until the session expires, or -1 if there is none. */
    public int secondsLeft(FlowKey k) {
        int m = findInside(k.namespace(), (k.protocol() << 16) | k.insidePort(), k.insideAddress());
        if (m < 0) {
            return -1;
        }
        int s = findSession(m, k.remoteAddress(), k.remotePort());
        return s < 0 ? -1 : sExpiry[s] - now;
    }
}
