package dev.pktkit.switching;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.ImmediateEventExecutor;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One coverage-guided fuzz target for the hubs' ingress: read batches of fuzzed messages entering an {@link L2Hub}
 * (access, trunk and mirror ports, a small MAC table) or an {@link L3Hub} in router mode (IPv4 and IPv6 prefixes,
 * a default route, ICMP errors on). Each input builds a fresh hub on {@link EmbeddedChannel} ports, so a finding
 * replays alone.
 *
 * <p>What must hold for every input: nothing reaches a port pipeline's tail as an exception; every buffer fed in is
 * released once the outputs are (so drops, floods, tag rewrites, TTL copies and ICMP errors neither leak nor
 * over-release); the ingress port counts every message; the L2 mirror port gets exactly one copy of every frame
 * that entered; nothing is sent back to its ingress port except, from the L3 hub, an ICMP error sourced from the
 * router's address; every L3 output is IPv4 or IPv6.
 *
 * <p>{@code mvn verify} runs it in Jazzer's fuzzing mode ({@code JAZZER_FUZZ=1}, this module's surefire
 * configuration) for {@link #MAX_DURATION}; the corpus goes under {@code target/}. A finding fails the test and is
 * written to {@code target/crash-<sha1>}; copy it into
 * {@code src/test/resources/dev/pktkit/switching/HubIngressFuzzTestInputs/ingress/} to keep it as a seed. One
 * {@code @FuzzTest} per module (a Jazzer limit in fuzzing mode), hence one harness for both hubs.
 */
class HubIngressFuzzTest {
    /** Fuzzing time inside the normal test run (CI budget); raise it locally for a longer campaign. */
    static final String MAX_DURATION = "10s";
    /** Not tracked by the leak detector (paranoid tracking slows fuzzing a hundredfold): refCnt is checked here. */
    private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(true, true);
    private static final int ROUTER_V4 = 0x0A00_0001; // 10.0.0.1
    private static final long ROUTER_V6_HI = 0x2001_0db8_0000_0000L;
    private static final long ROUTER_V6_LO = 1;

    @FuzzTest(maxDuration = MAX_DURATION)
    void ingress(FuzzedDataProvider data) throws Exception {
        if (data.consumeBoolean()) {
            l2(data);
        } else {
            l3(data);
        }
    }

    private static void l2(FuzzedDataProvider data) {
        L2Hub hub = L2Hub.builder().tickInterval(Duration.ZERO).maxMacEntries(8)
                .executor(ImmediateEventExecutor.INSTANCE).build();
        List<EmbeddedChannel> ports = new ArrayList<>();
        try {
            ports.add(port(hub, L2PortOptions.defaults()));
            ports.add(port(hub, L2PortOptions.access(10)));
            ports.add(port(hub, L2PortOptions.trunk(1, 10, 20)));
            ports.add(port(hub, L2PortOptions.trunk(0, 20).maxMacEntries(2)));
            EmbeddedChannel mirror = new EmbeddedChannel();
            hub.attach(mirror, L2PortOptions.mirror());
            int batches = data.consumeInt(1, 3);
            for (int b = 0; b < batches && data.remainingBytes() > 0; b++) {
                int in = data.consumeInt(0, ports.size() - 1);
                EmbeddedChannel ingress = ports.get(in);
                List<ByteBuf> fed = feed(ingress, hub.port(ingress), data, frameHead(data));
                for (int i = 0; i < ports.size(); i++) {
                    List<ByteBuf> out = drain(ports.get(i));
                    if (i == in) {
                        assertEquals(List.of(), out, "a frame went back to its ingress port");
                    }
                    for (ByteBuf o : out) {
                        assertTrue(o.readableBytes() >= 14, "a runt left the hub");
                    }
                    releaseAll(out);
                }
                List<ByteBuf> mirrored = drain(mirror);
                int frames = (int) fed.stream().filter(f -> f != null).count();
                assertEquals(frames, mirrored.size(), "the mirror sees every frame that entered");
                releaseAll(mirrored);
                assertReleased(fed);
            }
            for (EmbeddedChannel ch : ports) {
                ch.checkException();
            }
        } finally {
            close(hub, ports);
        }
    }

    private static void l3(FuzzedDataProvider data) throws Exception {
        L3Hub hub = L3Hub.builder().routerMode(data.consumeBoolean()).icmpErrorsPerSecond(1000)
                .routerAddresses((java.net.Inet4Address) InetAddress.getByName("10.0.0.1"),
                        (java.net.Inet6Address) InetAddress.getByName("2001:db8::1"))
                .executor(ImmediateEventExecutor.INSTANCE).build();
        List<EmbeddedChannel> ports = new ArrayList<>();
        try {
            ports.add(port(hub, L3PortOptions.prefixes("10.0.1.0/24", "2001:db8:1::/48")));
            ports.add(port(hub, L3PortOptions.prefixes("10.0.2.0/24", "10.0.2.128/25", "2001:db8:2::/48")));
            ports.add(port(hub, L3PortOptions.none()));
            hub.addRoute("0.0.0.0/0", ports.get(2));
            hub.addRoute("::/0", ports.get(2));
            int batches = data.consumeInt(1, 3);
            for (int b = 0; b < batches && data.remainingBytes() > 0; b++) {
                int in = data.consumeInt(0, ports.size() - 1);
                List<ByteBuf> fed = feed(ports.get(in), hub.port(ports.get(in)), data, packetHead(data));
                for (int i = 0; i < ports.size(); i++) {
                    List<ByteBuf> out = drain(ports.get(i));
                    for (ByteBuf o : out) {
                        int version = o.getUnsignedByte(o.readerIndex()) >>> 4;
                        assertTrue(version == 4 || version == 6, "not an IP packet left the hub");
                        if (i == in) {
                            assertTrue(fromRouter(o, version), "only ICMP errors from the router go back");
                        }
                    }
                    releaseAll(out);
                }
                assertReleased(fed);
            }
            for (EmbeddedChannel ch : ports) {
                ch.checkException();
            }
        } finally {
            close(hub, ports);
        }
    }

    private static void close(AbstractHub<?> hub, List<EmbeddedChannel> ports) {
        hub.close();
        for (EmbeddedChannel ch : ports) {
            ch.finishAndReleaseAll();
        }
    }

    private static boolean fromRouter(ByteBuf o, int version) {
        int off = o.readerIndex();
        if (version == 4) {
            return o.readableBytes() >= 20 && o.getInt(off + 12) == ROUTER_V4 && o.getUnsignedByte(off + 9) == 1;
        }
        return o.readableBytes() >= 40 && o.getLong(off + 8) == ROUTER_V6_HI && o.getLong(off + 16) == ROUTER_V6_LO
                && o.getUnsignedByte(off + 6) == 58;
    }

    private static EmbeddedChannel port(L2Hub hub, L2PortOptions options) {
        EmbeddedChannel ch = new EmbeddedChannel();
        hub.attach(ch, options);
        return ch;
    }

    private static EmbeddedChannel port(L3Hub hub, L3PortOptions options) {
        EmbeddedChannel ch = new EmbeddedChannel();
        hub.attach(ch, options);
        return ch;
    }

    /**
     * A plausible start for a frame, so the fuzzer reaches forwarding quickly: destination (a learned-looking
     * unicast, broadcast, multicast or fuzzed), source, and an optional 802.1Q tag; the rest of each frame is fuzzed.
     */
    private static byte[] frameHead(FuzzedDataProvider data) {
        ByteBuf h = ALLOC.heapBuffer(18);
        switch (data.consumeInt(0, 3)) {
            case 0 -> h.writeShort(0x0200).writeInt(data.consumeInt(0, 3));
            case 1 -> h.writeShort(0xFFFF).writeInt(-1);
            case 2 -> h.writeShort(0x0100).writeInt(0x5E00_0001);
            default -> h.writeShort(data.consumeShort()).writeInt(data.consumeInt());
        }
        h.writeShort(0x0200).writeInt(data.consumeInt(0, 3));
        if (data.consumeBoolean()) {
            h.writeShort(0x8100).writeShort(data.pickValue(new int[] {0, 1, 10, 20, 30, 0x2000 | 10}));
        }
        byte[] b = new byte[h.readableBytes()];
        h.readBytes(b);
        h.release();
        return b;
    }

    /** A plausible start for an IP packet: version, and for IPv4 a destination among the hub's prefixes. */
    private static byte[] packetHead(FuzzedDataProvider data) {
        return switch (data.consumeInt(0, 2)) {
            case 0 -> new byte[] {0x45, 0, 0, 28, 0, 0, 0, 0, (byte) data.consumeInt(0, 3), 17, 0, 0, 10, 0, 1, 5,
                    10, 0, (byte) data.consumeInt(0, 3), (byte) data.consumeInt(0, 255)};
            case 1 -> new byte[] {0x60, 0, 0, 0, 0, 8, 17, (byte) data.consumeInt(0, 3)};
            default -> new byte[0];
        };
    }

    /**
     * Feeds one read batch (1-4 messages) into {@code ingress}: each message is {@code head} followed by fuzzed
     * bytes, with its header bytes possibly overwritten, or now and then not a ByteBuf at all (listed as null).
     */
    private static List<ByteBuf> feed(EmbeddedChannel ingress, HubPort port, FuzzedDataProvider data,
                                      byte[] head) {
        int count = data.consumeInt(1, 4);
        List<ByteBuf> fed = new ArrayList<>();
        long before = port.counters().framesIn();
        int buffers = 0;
        for (int i = 0; i < count; i++) {
            if (data.consumeInt(0, 15) == 0) {
                fed.add(null);
                ingress.pipeline().fireChannelRead("not a message");
                continue;
            }
            byte[] tail = data.consumeBytes(data.consumeInt(0, 1600));
            ByteBuf buf = ALLOC.directBuffer(head.length + tail.length).writeBytes(head).writeBytes(tail);
            if (buf.readableBytes() > 0 && data.consumeBoolean()) {
                buf.setByte(data.consumeInt(0, buf.readableBytes() - 1), data.consumeByte());
            }
            fed.add(buf);
            buffers++;
            ingress.pipeline().fireChannelRead(buf);
        }
        ingress.pipeline().fireChannelReadComplete();
        ingress.runPendingTasks();
        assertEquals(before + buffers, port.counters().framesIn(), "the ingress port counts every frame");
        return fed;
    }

    private static List<ByteBuf> drain(EmbeddedChannel ch) {
        ch.runPendingTasks();
        List<ByteBuf> out = new ArrayList<>();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            out.add((ByteBuf) o);
        }
        return out;
    }

    private static void releaseAll(List<ByteBuf> out) {
        for (ByteBuf o : out) {
            o.release();
        }
    }

    private static void assertReleased(List<ByteBuf> fed) {
        for (ByteBuf b : fed) {
            if (b != null) {
                assertEquals(0, b.refCnt(), "a frame fed to the hub was not released");
            }
        }
    }
}
