package dev.pktkit.vtcp.host;

import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code ChannelOption}s of the three virtual channels through their shared plumbing
 * ({@code VirtualChannelConfig}): each kind reports exactly its options with their defaults, takes a set through
 * {@code setOption} and reports it back, refuses bad values, and leaves options it does not have to Netty's
 * default configuration (unknown ones: {@code setOption} false, {@code getOption} null).
 */
class VirtualChannelConfigTest {
    private final VirtualHost host = VirtualHost.builder().address("10.0.0.2").build();

    private static <T> void roundTrip(ChannelConfig c, ChannelOption<T> o, T v) {
        assertTrue(c.setOption(o, v), o.name());
        assertEquals(v, c.getOption(o), o.name());
        assertEquals(v, c.getOptions().get(o), o.name());
    }

    private static void has(ChannelConfig c, Set<ChannelOption<?>> expected, Set<ChannelOption<?>> absent) {
        Map<ChannelOption<?>, Object> all = c.getOptions();
        for (ChannelOption<?> o : expected) {
            assertTrue(all.containsKey(o), "reports " + o.name());
        }
        for (ChannelOption<?> o : absent) {
            assertFalse(all.containsKey(o), "does not report " + o.name());
            assertNull(c.getOption(o), o.name());
        }
        // Netty's own options are still there
        assertTrue(all.containsKey(ChannelOption.AUTO_READ));
        assertTrue(all.containsKey(ChannelOption.WRITE_BUFFER_WATER_MARK));
    }

    @Test
    void socketOptions() {
        Channel ch = host.socketChannels().newChannel();
        VirtualSocketChannelConfig c = (VirtualSocketChannelConfig) ch.config();
        has(c, Set.of(ChannelOption.SO_RCVBUF, ChannelOption.SO_SNDBUF, ChannelOption.TCP_NODELAY,
                        ChannelOption.SO_KEEPALIVE, ChannelOption.SO_REUSEADDR, ChannelOption.SO_LINGER,
                        ChannelOption.IP_TOS, ChannelOption.ALLOW_HALF_CLOSURE),
                Set.of(ChannelOption.SO_BACKLOG, VirtualChannelOption.TRANSPARENT, ChannelOption.SO_BROADCAST));
        assertEquals(Boolean.TRUE, c.getOption(ChannelOption.TCP_NODELAY));
        assertEquals(256 * 1024, c.getOption(ChannelOption.SO_RCVBUF));
        assertEquals(256 * 1024, c.getOption(ChannelOption.SO_SNDBUF));
        assertEquals(-1, c.getOption(ChannelOption.SO_LINGER));
        roundTrip(c, ChannelOption.SO_RCVBUF, 65536);
        roundTrip(c, ChannelOption.SO_SNDBUF, 1 << 20);
        roundTrip(c, ChannelOption.TCP_NODELAY, false);
        roundTrip(c, ChannelOption.SO_KEEPALIVE, true);
        roundTrip(c, ChannelOption.SO_REUSEADDR, true);
        roundTrip(c, ChannelOption.SO_LINGER, 0);
        roundTrip(c, ChannelOption.IP_TOS, 0x10);
        roundTrip(c, ChannelOption.ALLOW_HALF_CLOSURE, true);
        roundTrip(c, ChannelOption.AUTO_READ, false);
        roundTrip(c, ChannelOption.CONNECT_TIMEOUT_MILLIS, 1234);
        roundTrip(c, ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(10, 20));
        assertEquals(-1, c.setSoLinger(-5).getSoLinger());
        // the engine options follow the configuration
        assertEquals(65536, c.toOptions().receiveBuffer());
        assertEquals(1 << 20, c.toOptions().sendBuffer());
        assertFalse(c.toOptions().noDelay());
        assertTrue(c.toOptions().keepAlive());
        assertThrows(IllegalArgumentException.class, () -> c.setOption(ChannelOption.SO_RCVBUF, 0));
        assertThrows(IllegalArgumentException.class, () -> c.setOption(ChannelOption.SO_SNDBUF, -1));
        assertThrows(IllegalArgumentException.class, () -> c.setOption(ChannelOption.IP_TOS, 256));
        assertFalse(c.setOption(ChannelOption.SO_BACKLOG, 5));
        assertFalse(c.setOption(VirtualChannelOption.TRANSPARENT, true));
    }

    @Test
    void serverSocketOptions() {
        Channel ch = host.serverSocketChannels().newChannel();
        VirtualServerSocketChannelConfig c = (VirtualServerSocketChannelConfig) ch.config();
        has(c, Set.of(ChannelOption.SO_RCVBUF, ChannelOption.SO_REUSEADDR, ChannelOption.SO_BACKLOG,
                        VirtualChannelOption.TRANSPARENT, VirtualChannelOption.DEFERRED_ACCEPT),
                Set.of(ChannelOption.SO_SNDBUF, ChannelOption.IP_TOS, ChannelOption.TCP_NODELAY,
                        VirtualChannelOption.UDP_DATAGRAMS));
        assertEquals(VirtualServerSocketChannelConfig.DEFAULT_BACKLOG, c.getOption(ChannelOption.SO_BACKLOG));
        assertEquals(256 * 1024, c.getOption(ChannelOption.SO_RCVBUF));
        assertEquals(Boolean.FALSE, c.getOption(VirtualChannelOption.TRANSPARENT));
        roundTrip(c, ChannelOption.SO_RCVBUF, 1024);
        roundTrip(c, ChannelOption.SO_REUSEADDR, true);
        roundTrip(c, ChannelOption.SO_BACKLOG, 7);
        roundTrip(c, VirtualChannelOption.TRANSPARENT, true);
        roundTrip(c, VirtualChannelOption.DEFERRED_ACCEPT, true);
        roundTrip(c, ChannelOption.AUTO_READ, false);
        assertTrue(c.isTransparent() && c.isDeferredAccept());
        assertThrows(IllegalArgumentException.class, () -> c.setOption(ChannelOption.SO_RCVBUF, 1023));
        assertThrows(IllegalArgumentException.class, () -> c.setOption(ChannelOption.SO_BACKLOG, 0));
        assertFalse(c.setOption(ChannelOption.SO_SNDBUF, 4096));
    }

    @Test
    void datagramOptions() {
        Channel ch = host.datagramChannels().newChannel();
        VirtualDatagramChannelConfig c = (VirtualDatagramChannelConfig) ch.config();
        has(c, Set.of(ChannelOption.SO_BROADCAST, ChannelOption.SO_RCVBUF, ChannelOption.SO_SNDBUF,
                        ChannelOption.SO_REUSEADDR, ChannelOption.IP_MULTICAST_LOOP_DISABLED,
                        ChannelOption.IP_MULTICAST_TTL, ChannelOption.IP_TOS, VirtualChannelOption.TRANSPARENT,
                        VirtualChannelOption.UDP_DATAGRAMS),
                Set.of(ChannelOption.SO_BACKLOG, ChannelOption.TCP_NODELAY, VirtualChannelOption.DEFERRED_ACCEPT));
        assertEquals(VirtualDatagramChannelConfig.DEFAULT_RECEIVE_BUFFER, c.getOption(ChannelOption.SO_RCVBUF));
        assertEquals(64, c.getOption(ChannelOption.IP_MULTICAST_TTL));
        assertEquals(Boolean.TRUE, c.getOption(ChannelOption.IP_MULTICAST_LOOP_DISABLED));
        roundTrip(c, ChannelOption.SO_BROADCAST, true);
        roundTrip(c, ChannelOption.SO_RCVBUF, 4096);
        roundTrip(c, ChannelOption.SO_SNDBUF, 8192);
        roundTrip(c, ChannelOption.SO_REUSEADDR, true);
        roundTrip(c, ChannelOption.IP_MULTICAST_LOOP_DISABLED, false);
        roundTrip(c, ChannelOption.IP_MULTICAST_TTL, 3);
        roundTrip(c, ChannelOption.IP_TOS, 0xB8);
        roundTrip(c, VirtualChannelOption.TRANSPARENT, true);
        roundTrip(c, VirtualChannelOption.UDP_DATAGRAMS, true);
        roundTrip(c, ChannelOption.AUTO_READ, false);
        assertThrows(IllegalArgumentException.class, () -> c.setOption(ChannelOption.IP_MULTICAST_TTL, 0));
        assertThrows(IllegalArgumentException.class, () -> c.setOption(ChannelOption.IP_TOS, -1));
        assertThrows(IllegalArgumentException.class, () -> c.setOption(ChannelOption.SO_RCVBUF, 0));
        assertFalse(c.setOption(ChannelOption.SO_BACKLOG, 5));
    }
}
