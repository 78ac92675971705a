package dev.pktkit.codec.wire;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One coverage-guided fuzz target for every decoder of the wire package.
 *
 * <p>The first input byte picks a decoder (low 4 bits) and how much to shorten the length argument (high 4 bits);
 * the rest is the message. It is presented twice: as a heap buffer at absolute offset 0, and as a direct buffer
 * whose message starts at absolute offset {@value #LEAD} after junk bytes. Both buffers have exactly the capacity
 * they need, so any read past {@code writerIndex()} throws. For the chosen protocol every public static accessor
 * and validator taking {@code (ByteBuf, int ...)} is called through reflection (so accessors added later are fuzzed
 * too) with several choices for the extra int and long arguments, and every repr's parse runs; when a parse
 * succeeds, the repr is emitted and parsed again and must compare equal. Nothing may throw.
 *
 * <p>{@code mvn verify} runs it in Jazzer's fuzzing mode ({@code JAZZER_FUZZ=1}, set by the codec POM's surefire
 * configuration) for {@link #MAX_DURATION}; without that variable JUnit runs only the seeds in
 * {@code src/test/resources/dev/pktkit/codec/wire/WireFuzzTestInputs/decoders/} as regression tests. The generated
 * corpus goes under {@code target/.cifuzz-corpus/} ({@code jazzer.internal.basedir}) and is reused by later runs
 * until {@code mvn clean}. A finding fails the test and is written to {@code target/crash-<sha1>}; copy it into the
 * seed directory to keep it as a regression test. Only one {@code @FuzzTest} may exist per module run in fuzzing
 * mode (a Jazzer limit), which is why this one harness covers every decoder.
 *
 * <p>On JDK 25 Jazzer 0.24.0 logs "Failed to instrument java/util/regex/..." warnings: its ASM cannot rewrite
 * class files of major version 69, so its regex and process sanitizer hooks are inactive. Coverage
 * instrumentation of the code under test (compiled for release 21) is unaffected.
 */
class WireFuzzTest {
    /** Fuzzing time inside the normal test run; raise it locally for a longer campaign. */
    static final String MAX_DURATION = "20s";
    /** Absolute offset of the message in the direct buffer. */
    static final int LEAD = 13;
    /** Longest message tried; longer inputs are cut (libFuzzer's default maximum is 4096 anyway). */
    static final int MAX_MESSAGE = 65_536;

    /**
     * Methods not called with arbitrary arguments, because they document a precondition that fuzz arguments
     * break on purpose: builders and in-place updates (they write), {@code Ipv6.pseudoHeaderSum} ("the caller
     * validated the header") and {@code Ndp.nextOption} ("for lists that passed checkOptions").
     */
    static final Set<String> EXCLUDED_NAMES = Set.of("Ipv6.pseudoHeaderSum", "Ndp.nextOption");
    static final List<String> EXCLUDED_PREFIXES = List.of("write", "set", "fill", "rewrite", "decrement", "update",
            "copy", "emit");

    /** Decoder groups; index = low 4 bits of the first byte modulo the length. */
    static final Class<?>[][] GROUPS = {
            {Udp.class},
            {Tcp.class, TcpOptions.class},
            {Dhcp4.class},
            {Ethernet.class, Vlan.class},
            {Arp.class},
            {Ipv4.class, Udp.class, Tcp.class},
            {Ipv6.class, Udp.class, Tcp.class},
            {Icmpv4.class},
            {Icmpv6.class},
            {Ndp.class},
    };
    static final Method[][] ACCESSORS = new Method[GROUPS.length][];

    static {
        for (int g = 0; g < GROUPS.length; g++) {
            List<Method> ms = new ArrayList<>();
            for (Class<?> c : GROUPS[g]) {
                for (Method m : c.getDeclaredMethods()) {
                    if (fuzzable(m)) {
                        ms.add(m);
                    }
                }
            }
            ms.sort(Comparator.comparing(Method::toString)); // stable order: reproducible runs
            ACCESSORS[g] = ms.toArray(new Method[0]);
        }
    }

    private static ByteBuf directBacking;

    static boolean fuzzable(Method m) {
        int mod = m.getModifiers();
        Class<?>[] p = m.getParameterTypes();
        if (!Modifier.isPublic(mod) || !Modifier.isStatic(mod) || p.length < 2 || p[0] != ByteBuf.class
                || p[1] != int.class) {
            return false;
        }
        for (int i = 2; i < p.length; i++) {
            if (p[i] != int.class && p[i] != long.class && p[i] != boolean.class) {
                return false;
            }
        }
        if (EXCLUDED_NAMES.contains(m.getDeclaringClass().getSimpleName() + "." + m.getName())) {
            return false;
        }
        for (String prefix : EXCLUDED_PREFIXES) {
            if (m.getName().startsWith(prefix)) {
                return false;
            }
        }
        return true;
    }

    @BeforeAll
    static void allocate() {
        // not leak-tracked on purpose: paranoid tracking records every access and would slow fuzzing 100-fold;
        // released in @AfterAll
        directBacking = new UnpooledDirectByteBuf(UnpooledByteBufAllocator.DEFAULT, LEAD + MAX_MESSAGE,
                LEAD + MAX_MESSAGE);
    }

    @AfterAll
    static void release() {
        directBacking.release();
        if (devices != null) {
            devices.finishAndReleaseAll();
        }
    }

    /** The frame-level devices (DHCP server, adapter with DHCP client, echo responder) on one channel. */
    private static io.netty.channel.embedded.EmbeddedChannel devices;

    /**
     * Feeds the input to the devices as a frame (to broadcast or to the adapter's MAC, by the selector): they must
     * drop what is bad without an exception reaching the pipeline, and release everything.
     */
    private static void devices(byte[] msg, int selector) {
        if (devices == null) {
            long mac = 0x0200_0000_0001L;
            dev.pktkit.codec.adapter.L2Adapter nic = dev.pktkit.codec.adapter.L2Adapter.builder().mac(mac)
                    .dhcp(true).maxNeighbors(64).build();
            devices = new io.netty.channel.embedded.EmbeddedChannel(
                    dev.pktkit.codec.dhcp.DhcpServer.builder().serverMac(mac).serverAddress("10.0.0.1", 24)
                            .pool("10.0.0.10", "10.0.0.20").router("10.0.0.1").build(),
                    nic, new dev.pktkit.codec.device.EchoResponder(nic));
        }
        ByteBuf frame = Unpooled.buffer(msg.length).writeBytes(msg);
        if (msg.length >= 6 && (selector & 0x80) != 0) {
            MacAddress.set(frame, 0, (selector & 0x40) != 0 ? MacAddress.BROADCAST : 0x0200_0000_0001L);
        }
        devices.writeInbound(frame);
        devices.checkException();
        for (Object o; (o = devices.readInbound()) != null; ) {
            io.netty.util.ReferenceCountUtil.release(o);
        }
        for (Object o; (o = devices.readOutbound()) != null; ) {
            io.netty.util.ReferenceCountUtil.release(o);
        }
    }

    @FuzzTest(maxDuration = MAX_DURATION)
    void decoders(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int selector = input[0] & 0xFF;
        int group = (selector & 0x0F) % GROUPS.length;
        byte[] msg = Arrays.copyOfRange(input, 1, Math.min(input.length, 1 + MAX_MESSAGE));
        int shorten = selector >>> 4;

        ByteBuf heap = Unpooled.wrappedBuffer(msg);
        try {
            run(group, heap, 0, msg, shorten);
        } finally {
            heap.release();
        }
        directBacking.setIndex(0, 0);
        for (int i = 0; i < LEAD; i++) {
            directBacking.writeByte(0xA5);
        }
        directBacking.writeBytes(msg);
        ByteBuf direct = directBacking.slice(0, LEAD + msg.length); // capacity ends where the message ends
        run(group, direct, LEAD, msg, shorten);
        checksums(msg, heapOf(msg), direct);
        devices(msg, selector);
    }

    private static ByteBuf heapOf(byte[] msg) {
        return Unpooled.wrappedBuffer(msg);
    }

    /**
     * Differential check of {@link Checksums} on every input: a sub-range chosen from the input (any start, odd or
     * even, any length) must sum the same on a heap buffer and a direct buffer at an odd offset as a plain
     * byte-by-byte RFC 1071 reference.
     */
    private static void checksums(byte[] msg, ByteBuf heap, ByteBuf direct) {
        try {
            if (msg.length < 2) {
                return;
            }
            int from = (msg[0] & 0xFF) % msg.length;
            int len = (msg[1] & 0xFF) * 7 % (msg.length - from + 1);
            long initial = msg.length >= 10 ? heap.getLong(2) : 0;
            int expected = reference(msg, from, len, initial);
            int onHeap = Checksums.finish(Checksums.partial(heap, from, len, initial));
            int onDirect = Checksums.finish(Checksums.partial(direct, LEAD + from, len, initial));
            if (onHeap != expected || onDirect != expected) {
                throw new AssertionError("checksum of [" + from + ", +" + len + ") initial " + initial
                        + ": heap " + onHeap + ", direct " + onDirect + ", reference " + expected);
            }
        } finally {
            heap.release();
        }
    }

    /** RFC 1071 one byte at a time, the odd byte padded with a zero low octet; an independent reference. */
    private static int reference(byte[] b, int from, int len, long initial) {
        long sum = (initial >>> 32) + (initial & 0xFFFF_FFFFL);
        for (int i = 0; i < len; i++) {
            int v = b[from + i] & 0xFF;
            sum += (i & 1) == 0 ? v << 8 : v;
            sum = (sum & 0xFFFF_FFFFL) + (sum >>> 32);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }

    private static void run(int group, ByteBuf buf, int off, byte[] msg, int shorten) {
        int len = Math.max(0, msg.length - shorten);
        int small = msg.length > 0 ? msg[0] & 0xFF : 0;
        long wide = msg.length >= 8 ? buf.getLong(off + msg.length - 8) : small;
        for (Method m : ACCESSORS[group]) {
            invoke(m, buf, off, len, len, wide);
            invoke(m, buf, off, len, small, wide);
            invoke(m, buf, off, small, -small, ~wide);
        }
        reprs(group, buf, off, len, wide);
    }

    private static void invoke(Method m, ByteBuf buf, int off, int firstInt, int otherInts, long longs) {
        Class<?>[] p = m.getParameterTypes();
        Object[] args = new Object[p.length];
        args[0] = buf;
        args[1] = off;
        boolean first = true;
        for (int i = 2; i < p.length; i++) {
            if (p[i] == int.class) {
                args[i] = first ? firstInt : otherInts;
                first = false;
            } else if (p[i] == long.class) {
                args[i] = longs + i;
            } else {
                args[i] = (longs & (1L << i)) != 0;
            }
        }
        int reader = buf.readerIndex();
        int writer = buf.writerIndex();
        try {
            m.invoke(null, args);
        } catch (InvocationTargetException e) {
            throw new AssertionError(m + " threw on " + Arrays.toString(args), e.getCause());
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
        if (buf.readerIndex() != reader || buf.writerIndex() != writer) {
            throw new AssertionError(m + " moved the buffer's indices");
        }
    }

    /** Parses with every repr of the group and checks that what parses round-trips. */
    private static void reprs(int group, ByteBuf buf, int off, int len, long wide) {
        int src4 = (int) wide;
        int dst4 = (int) (wide >>> 32);
        switch (group) {
            case 0 -> {
                roundTripUdp(UdpRepr.parse(buf, off, len));
                roundTripUdp(UdpRepr.parseV4(buf, off, len, src4, dst4));
                roundTripUdp(UdpRepr.parseV6(buf, off, len, wide, ~wide, wide >>> 3, 1));
            }
            case 1 -> {
                roundTripTcp(TcpRepr.parse(buf, off, len));
                TcpRepr v4 = TcpRepr.parseV4(buf, off, len, src4, dst4);
                if (v4 != null) {
                    ByteBuf out = Unpooled.buffer();
                    try {
                        v4.emitV4(out, src4, dst4);
                        assertEquals(v4, TcpRepr.parseV4(out, 0, out.readableBytes(), src4, dst4));
                    } finally {
                        out.release();
                    }
                }
            }
            case 2 -> {
                Dhcp4Repr r = Dhcp4Repr.parse(buf, off, len);
                if (r != null) {
                    ByteBuf out = Unpooled.buffer();
                    try {
                        int n = r.emit(out);
                        assertEquals(r.emittedLength(), n);
                        assertEquals(r, Dhcp4Repr.parse(out, 0, n));
                    } finally {
                        out.release();
                    }
                }
                Dhcp4.hostName(buf, off, len);
                Dhcp4.domainName(buf, off, len);
                Dhcp4.vendorClass(buf, off, len);
                Dhcp4.clientId(buf, off, len);
                Dhcp4.parameterRequestList(buf, off, len);
                Dhcp4.classlessStaticRoutes(buf, off, len);
                Dhcp4.optionBytes(buf, off, len, (int) (wide & 0xFF));
                ByteBuf sink = Unpooled.buffer(0);
                try {
                    Dhcp4.copyOption(buf, off, len, (int) (wide & 0xFF), sink);
                } finally {
                    sink.release();
                }
            }
            case 3 -> {
                EthernetRepr e = EthernetRepr.parse(buf, off);
                if (e != null) {
                    ByteBuf out = Unpooled.buffer();
                    try {
                        e.emit(out);
                        appendRest(out, buf, off + e.emittedLength());
                        assertEquals(e, EthernetRepr.parse(out, 0));
                    } finally {
                        out.release();
                    }
                }
            }
            case 4 -> {
                ArpRepr a = ArpRepr.parse(buf, off);
                if (a != null) {
                    ByteBuf out = Unpooled.buffer();
                    try {
                        a.emit(out);
                        assertEquals(a, ArpRepr.parse(out, 0));
                    } finally {
                        out.release();
                    }
                }
            }
            case 5 -> {
                Ipv4Repr r = Ipv4Repr.parse(buf, off);
                if (r != null) {
                    ByteBuf out = Unpooled.buffer();
                    try {
                        r.emit(out);
                        appendRest(out, buf, off + r.emittedLength());
                        assertEquals(r, Ipv4Repr.parse(out, 0));
                    } finally {
                        out.release();
                    }
                }
            }
            case 6 -> {
                Ipv6Repr r = Ipv6Repr.parse(buf, off);
                if (r != null) {
                    ByteBuf out = Unpooled.buffer();
                    try {
                        r.emit(out);
                        appendRest(out, buf, off + r.emittedLength());
                        assertEquals(r, Ipv6Repr.parse(out, 0));
                    } finally {
                        out.release();
                    }
                }
                Icmpv6Repr.parsePacket(buf, off);
                NdpRepr.parse(buf, off);
            }
            case 7 -> {
                Icmpv4Repr r = Icmpv4Repr.parse(buf, off, len);
                if (r != null) {
                    ByteBuf out = Unpooled.buffer();
                    try {
                        r.emit(out);
                        assertEquals(r, Icmpv4Repr.parse(out, 0, out.readableBytes()));
                    } finally {
                        out.release();
                    }
                }
            }
            case 8 -> {
                long sh = wide;
                long sl = ~wide;
                long dh = wide >>> 7;
                long dl = 1;
                long pseudo = Checksums.pseudoHeaderV6(sh, sl, dh, dl, IpProtocol.ICMPV6, len);
                Icmpv6Repr r = Icmpv6Repr.parse(buf, off, len, pseudo);
                if (r != null) {
                    ByteBuf out = Unpooled.buffer();
                    try {
                        r.emit(out, sh, sl, dh, dl);
                        assertEquals(r, Icmpv6Repr.parse(out, 0, out.readableBytes(), pseudo));
                    } finally {
                        out.release();
                    }
                }
            }
            case 9 -> {
                NdpRepr r = NdpRepr.parse(buf, off);
                if (r != null) {
                    ByteBuf out = Unpooled.buffer();
                    try {
                        r.emitPacket(out, Ipv6.srcHi(buf, off), Ipv6.srcLo(buf, off), Ipv6.dstHi(buf, off),
                                Ipv6.dstLo(buf, off));
                        assertEquals(r, NdpRepr.parse(out, 0));
                    } finally {
                        out.release();
                    }
                }
            }
            default -> throw new AssertionError(group);
        }
    }

    private static void roundTripUdp(UdpRepr r) {
        if (r == null) {
            return;
        }
        ByteBuf out = Unpooled.buffer();
        try {
            r.emit(out);
            assertEquals(r.emittedLength(), out.readableBytes());
            assertEquals(r, UdpRepr.parse(out, 0, out.readableBytes()));
        } finally {
            out.release();
        }
    }

    private static void roundTripTcp(TcpRepr r) {
        if (r == null) {
            return;
        }
        ByteBuf out = Unpooled.buffer();
        try {
            r.emit(out);
            assertEquals(r.emittedLength(), out.readableBytes());
            assertEquals(r, TcpRepr.parse(out, 0, out.readableBytes()));
        } finally {
            out.release();
        }
    }

    /** Appends what follows a header in the original message, so that length fields stay satisfied. */
    private static void appendRest(ByteBuf out, ByteBuf buf, int from) {
        int end = buf.writerIndex();
        if (from < end) {
            out.writeBytes(buf, from, end - from);
        }
    }
}
