package dev.pktkit.afxdp;

import dev.pktkit.codec.wire.Arp;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.testkit.netns.NetnsExtension;
import io.netty.buffer.ByteBuf;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An XdpChannel on one end of a veth whose other end is the kernel's, in namespaces the test makes: frames the
 * kernel sends arrive through the redirect program (native and generic mode, epoll and io_uring), and frames the
 * channel writes reach the kernel.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class XdpChannelTest {
    @RegisterExtension
    final NetnsExtension netns = new NetnsExtension();

    private MultiThreadIoEventLoopGroup group;

    @BeforeEach
    void setUp() {
        Netns.assumeUsable();
    }

    @AfterEach
    void tearDown() {
        if (group != null) {
            group.shutdownGracefully(0, 10, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @ParameterizedTest
    @MethodSource("dev.pktkit.afxdp.XdpFixture#loopsAndModes")
    void kernelArpArrivesAndOurArpReplyIsLearned(String loop, XdpMode mode) throws Exception {
        Netns a = netns.create();
        Netns b = netns.create();
        a.veth("va", b, "vx").addresses("10.91.0.1/24", null).up();
        group = TestLoops.group(loop, 1);
        XdpFixture.FrameRecorder rec = new XdpFixture.FrameRecorder();
        XdpChannel ch = XdpChannel.open(XdpSocketConfig.builder("vx").namespace(XdpFixture.handle(b))
                .ringSize(64).attach(mode).build());
        ch.pipeline().addLast(rec);
        group.register(ch).sync();
        try {
            assertFalse(ch.isZeroCopy(), "veth binds in copy mode");
            CommandResult link = b.exec("ip", "-d", "link", "show", "vx");
            assertTrue(link.output().contains(mode == XdpMode.NATIVE ? "xdp " : "xdpgeneric"), link.output());
            a.start(java.nio.file.Files.createTempFile("ping", ".log"), "ping", "-c", "30", "-i", "0.2",
                    "10.91.0.2");
            ByteBuf request = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (request == null && System.nanoTime() < deadline) {
                ByteBuf f = rec.frames.poll(1, TimeUnit.SECONDS);
                if (f != null && Ethernet.etherType(f, f.readerIndex()) == Ethernet.ARP
                        && Arp.operation(f, f.readerIndex() + 14) == Arp.OP_REQUEST) {
                    request = f;
                } else if (f != null) {
                    f.release();
                }
            }
            assertNotNull(request, "no ARP request from the kernel arrived on the XdpChannel");
            int off = request.readerIndex();
            long kernelMac = Ethernet.src(request, off);
            assertEquals(MacAddress.BROADCAST, Ethernet.dst(request, off));
            assertEquals(Ip4.parse("10.91.0.2"), Arp.targetIp(request, off + 14));
            assertTrue(request instanceof XdpFrameBuf, "the request is lent in place, in its UMEM chunk");
            request.release();

            // answer it: the kernel learns 10.91.0.2 at our MAC from a frame we transmit
            long ourMac = 0x02_00_5e_91_00_02L;
            ByteBuf reply = ch.alloc().directBuffer(42);
            Ethernet.writeHeader(reply, kernelMac, ourMac, Ethernet.ARP);
            reply.writeShort(1).writeShort(0x0800).writeByte(6).writeByte(4).writeShort(Arp.OP_REPLY);
            writeMac(reply, ourMac);
            reply.writeInt(Ip4.parse("10.91.0.2"));
            writeMac(reply, kernelMac);
            reply.writeInt(Ip4.parse("10.91.0.1"));
            ch.writeAndFlush(reply).sync();
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            CommandResult neigh;
            do {
                neigh = a.exec("ip", "neigh", "show", "10.91.0.2");
            } while (!neigh.output().contains("02:00:5e:91:00:02") && System.nanoTime() < deadline
                    && sleepLittle());
            assertTrue(neigh.output().contains("02:00:5e:91:00:02"), neigh.output());
            assertTrue(ch.counters().get(XdpCounter.FRAMES_OUT) >= 1);
        } finally {
            ch.close().sync();
            rec.releaseAll();
        }
        CommandResult after = b.exec("ip", "-d", "link", "show", "vx");
        assertFalse(after.output().contains("prog/xdp"), "closing the channel detaches its program: "
                + after.output());
    }

    static void writeMac(ByteBuf b, long mac) {
        b.writeShort((int) (mac >>> 32)).writeInt((int) mac);
    }

    private static boolean sleepLittle() throws InterruptedException {
        Thread.sleep(100); // polling the kernel's neighbour table, not synchronising threads
        return true;
    }
}
