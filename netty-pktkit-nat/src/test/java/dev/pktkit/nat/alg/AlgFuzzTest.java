package dev.pktkit.nat.alg;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.codec.wire.Udp;
import dev.pktkit.nat.Filtering;
import dev.pktkit.nat.NatConfig;
import dev.pktkit.nat.NatEngine;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;

/**
 * Coverage-guided fuzzing of every ALG parser: the input becomes the payload of a well-formed packet of a
 * helped control flow (FTP, IRC, PPTP over TCP; SIP, TFTP over UDP; PPTP's GRE), in either direction, so that
 * it reaches the parser rather than the NAT's header checks. One engine keeps its state (sessions,
 * expectations, calls, sequence offsets) across inputs. No helper may throw ({@link NatEngine#helperErrors()}
 * stays 0), no packet may leave with a bad checksum or length, and every buffer is released.
 */
class AlgFuzzTest {
    static final String MAX_DURATION = "5s";
    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;
    private static final int IN = 0x0A000002;
    private static final int OUT = 0xC6336401;
    private static final int REMOTE = 0xCB007105;
    private static final NatEngine ENGINE = new NatEngine(NatConfig.builder().outsideAddresses("198.51.100.1")
            .insideAddress("10.0.0.1").filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).maxMappings(256).build());
    private static final int PORT;
    private static final int[] SERVER_PORTS = {21, 6667, 1723, 5060, 69};
    private static int clock;

    static {
        Algs.install(ENGINE, AlgConfig.builder().irc(true).sip(true).pptp(true).maxHelpedSessions(64).build());
        PORT = ENGINE.addPort(ENGINE.openNamespace());
    }

    @FuzzTest(maxDuration = MAX_DURATION)
    void fuzz(byte[] input) {
        if (input.length < 3) {
            return;
        }
        int mode = input[0] & 0xFF;
        int which = (mode & 0x07) % 6;
        boolean inbound = (mode & 0x08) != 0;
        int clientPort = 40000 + (input[1] & 0x0F);
        if ((mode & 0x80) != 0) {
            clock += 1 + (input[1] & 0xFF);
            ENGINE.tick(clock);
        }
        int len = input.length - 2;
        ByteBuf b = (mode & 0x40) != 0 ? ALLOC.directBuffer(60 + len) : ALLOC.heapBuffer(60 + len);
        int src = inbound ? REMOTE : IN;
        int dst = inbound ? OUT : REMOTE;
        if (which == 5) { // GRE with the input as key, sequence and PPP payload
            Ipv4.writeHeader(b, src, dst, IpProtocol.GRE, 64, 4 + len, 1, false);
            b.writeShort(0x2001).writeShort(0x880B);
            b.writeBytes(input, 2, len);
        } else if (which == 4 || which == 3) { // SIP, TFTP
            int server = SERVER_PORTS[which == 3 ? 3 : 4];
            Ipv4.writeHeader(b, src, dst, IpProtocol.UDP, 64, 8 + len, 1, false);
            ByteBuf p = ALLOC.heapBuffer(len).writeBytes(input, 2, len);
            Udp.writeDatagramV4(b, src, dst, inbound ? server : clientPort, inbound ? clientPort : server, p, 0, len);
            p.release();
        } else { // FTP, IRC, PPTP control
            int server = SERVER_PORTS[which];
            int flags = (mode & 0x30) == 0x30 ? Tcp.SYN : Tcp.ACK | Tcp.PSH;
            if ((mode & 0x30) == 0x20) {
                flags |= Tcp.SYN;
            }
            Ipv4.writeHeader(b, src, dst, IpProtocol.TCP, 64, 20 + len, 1, true);
            int t = b.writerIndex();
            Tcp.writeHeader(b, inbound ? server : clientPort, inbound ? clientPort : server,
                    (input[1] & 0xFFL) << 8, 1000, flags, 65535, 0, null, 0, 0);
            b.writeBytes(input, 2, len);
            Tcp.fillChecksumV4(b, t, 20 + len, src, dst);
        }
        int v = inbound ? ENGINE.inbound(b) : ENGINE.outbound(b, PORT);
        try {
            if (v != NatEngine.DROP && b.readableBytes() >= 20 && Ipv4.protocol(b, 0) != IpProtocol.GRE
                    && !AlgPackets.valid(b)) {
                throw new AssertionError("a translated packet does not verify");
            }
            if (ENGINE.helperErrors() != 0) {
                throw new AssertionError("a helper threw");
            }
        } finally {
            b.release();
        }
    }
}
