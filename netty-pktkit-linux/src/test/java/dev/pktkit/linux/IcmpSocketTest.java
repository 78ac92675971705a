package dev.pktkit.linux;

import dev.pktkit.testkit.netns.Netns;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ICMP sockets in namespaces the test made: a datagram socket is refused while {@code ping_group_range} is
 * {@code 1 0} and opens once it is widened; a raw socket (root has {@code CAP_NET_RAW}) keeps the identifier and
 * returns the ICMP message without the IPv4 header; both get the loopback's echo reply.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IcmpSocketTest {
    /** An echo request: type 8 (v4) or 128 (v6), identifier 0x1234, sequence 7, 8 bytes of data. */
    private static byte[] request(boolean v6) {
        byte[] m = {(byte) (v6 ? 128 : 8), 0, 0, 0, 0x12, 0x34, 0, 7, 'p', 'k', 't', 'k', 'i', 't', '!', '!'};
        if (!v6) {
            int sum = 0;
            for (int i = 0; i < m.length; i += 2) {
                sum += ((m[i] & 0xFF) << 8) | (m[i + 1] & 0xFF);
            }
            sum = (sum >>> 16) + (sum & 0xFFFF);
            sum += sum >>> 16;
            int c = ~sum & 0xFFFF;
            m[2] = (byte) (c >>> 8);
            m[3] = (byte) c;
        }
        return m;
    }

    /** Sends one request to the loopback and returns the first echo reply's ICMP message. */
    private static byte[] echo(IcmpSocket s, boolean v6) {
        byte[] to = new byte[v6 ? 16 : 4];
        if (v6) {
            to[15] = 1;
        } else {
            to[0] = 127;
            to[3] = 1;
        }
        byte[] req = request(v6);
        assertEquals(req.length, s.send(req, req.length, to));
        byte[] buf = new byte[2048];
        byte[] from = new byte[to.length];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            long r = s.receive(buf, from);
            // a raw socket also sees the request itself on the loopback
            if (r >= 8 && (buf[0] & 0xFF) == (v6 ? 129 : 0)) {
                return java.util.Arrays.copyOf(buf, (int) r);
            }
        }
        throw new AssertionError("no echo reply");
    }

    @Test
    void datagramSocketFollowsPingGroupRange() throws Exception {
        Netns.assumeUsable();
        try (Netns ns = Netns.create()) {
            LinuxException e = assertThrows(LinuxException.class,
                    () -> IcmpSocket.openDatagram(false, ns.path().toString()));
            assertEquals(Errno.EACCES, e.errno());
            ns.sysctl("net.ipv4.ping_group_range", "0 2147483647");
            for (boolean v6 : new boolean[] {false, true}) {
                try (IcmpSocket s = IcmpSocket.open(v6, ns.path().toString(), false)) {
                    assertFalse(s.isRaw());
                    byte[] reply = echo(s, v6);
                    assertEquals(16, reply.length);
                    assertEquals(7, reply[7], "the sequence comes back");
                }
            }
        }
    }

    @Test
    void rawSocketIsTheFallbackAndKeepsTheIdentifier() throws Exception {
        Netns.assumeUsable();
        try (Netns ns = Netns.create()) {
            assertThrows(LinuxException.class, () -> IcmpSocket.open(false, ns.path().toString(), false));
            for (boolean v6 : new boolean[] {false, true}) {
                try (IcmpSocket s = IcmpSocket.open(v6, ns.path().toString(), true)) {
                    assertTrue(s.isRaw());
                    byte[] reply = echo(s, v6);
                    assertEquals(16, reply.length, "no IP header before the ICMP message");
                    assertEquals(0x12, reply[4]);
                    assertEquals(0x34, reply[5]);
                    assertEquals('p', reply[8]);
                }
            }
        }
    }

    @Test
    void closedSocketRefusesToSend() throws Exception {
        Netns.assumeUsable();
        try (Netns ns = Netns.create()) {
            IcmpSocket s = IcmpSocket.open(false, ns.path().toString(), true);
            s.close();
            assertTrue(s.isClosed());
            assertEquals(-Errno.EBADF, s.send(request(false), 16, new byte[] {127, 0, 0, 1}));
        }
    }
}
