package dev.pktkit.codec.adapter;

import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.dhcp.DhcpServer;
import dev.pktkit.codec.wire.Ip4;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.util.internal.ObjectUtil;

import java.util.function.Consumer;

/**
 * A LAN's gateway host built from one subnet: its {@link L2Adapter} (the gateway address, ARP, NDP), a
 * {@link DhcpServer} that hands out the rest of the subnet with this gateway as router, and an
 * {@link EchoResponder}, installed in the order they must have (the DHCP server sees DHCP before the adapter,
 * the responder sits above it). Give it to a pipe or a hub as the handler of an L2 port:
 *
 * <pre>{@code
 * Gateway gw = Gateway.builder("10.0.2.1/24").dnsServer("10.0.2.1").domainName("lan").build();
 * lan.attach(loop, gw);      // L2Hub.attach(EventLoop, ChannelHandler): the cable is made for you
 * }</pre>
 *
 * <p>Defaults: the pool is the larger side of the subnet next to the gateway address (for {@code 10.0.2.1/24}:
 * 10.0.2.2–10.0.2.254), the router option is the gateway, no DNS server or domain unless set. Anything else
 * the server or the adapter offers is reached through {@link Builder#dhcp} and {@link Builder#adapter}.
 *
 * <p>The gateway answers ARP, NDP and ping; it does not route anywhere yet (NAT and DNS come with later
 * modules). One gateway serves one channel (the adapter is not {@code @Sharable}); the initializer is, as every
 * {@link ChannelInitializer}, removed from the pipeline once it has run.
 */
public final class Gateway extends ChannelInitializer<Channel> {
    private final L2Adapter adapter;
    private final DhcpServer dhcp;
    private final EchoResponder echo;

    private Gateway(L2Adapter adapter, DhcpServer dhcp) {
        this.adapter = adapter;
        this.dhcp = dhcp;
        this.echo = new EchoResponder(adapter);
    }

    /** A gateway at {@code cidr}, e.g. {@code "10.0.2.1/24"}: the gateway's address and the LAN's prefix. */
    public static Builder builder(String cidr) {
        return new Builder(cidr);
    }

    /** The gateway's interface. */
    public L2Adapter adapter() {
        return adapter;
    }

    /** The LAN's DHCP server (counters, bindings). */
    public DhcpServer dhcpServer() {
        return dhcp;
    }

    /** The gateway's ping responder. */
    public EchoResponder echoResponder() {
        return echo;
    }

    @Override
    protected void initChannel(Channel ch) {
        ch.pipeline().addLast(dhcp, adapter, echo);
    }

    @Override
    public String toString() {
        return "Gateway(" + adapter + ")";
    }

    /** Configuration of a {@link Gateway}. */
    public static final class Builder {
        private final int address;
        private final int prefixLength;
        private String poolFirst;
        private String poolLast;
        private String dns;
        private String domain;
        private Consumer<DhcpServer.Builder> dhcpSettings = b -> { };
        private Consumer<L2Adapter.Builder> adapterSettings = b -> { };

        private Builder(String cidr) {
            ObjectUtil.checkNotNull(cidr, "cidr");
            int slash = cidr.indexOf('/');
            if (slash < 0) {
                throw new IllegalArgumentException("expected address/prefix: " + cidr);
            }
            this.address = Ip4.parse(cidr.substring(0, slash));
            this.prefixLength = Integer.parseInt(cidr.substring(slash + 1));
            if (prefixLength < 1 || prefixLength > 30) {
                throw new IllegalArgumentException("a LAN needs a prefix of /1 to /30: " + cidr);
            }
            int mask = Ip4.mask(prefixLength);
            if ((address & ~mask) == 0 || (address | mask) == -1) {
                throw new IllegalArgumentException("the gateway needs a host address of its subnet: " + cidr);
            }
        }

        /** The addresses DHCP hands out; default the larger side of the subnet next to the gateway address. */
        public Builder pool(String first, String last) {
            this.poolFirst = ObjectUtil.checkNotNull(first, "first");
            this.poolLast = ObjectUtil.checkNotNull(last, "last");
            return this;
        }

        /** The DNS server clients are told (option 6); default none. */
        public Builder dnsServer(String address) {
            this.dns = ObjectUtil.checkNotNull(address, "address");
            return this;
        }

        /** The domain name clients are told (option 15); default none. */
        public Builder domainName(String name) {
            this.domain = ObjectUtil.checkNotNull(name, "name");
            return this;
        }

        /** More DHCP server settings (lease time, static leases, routes, ...), applied after the gateway's own. */
        public Builder dhcp(Consumer<DhcpServer.Builder> settings) {
            this.dhcpSettings = ObjectUtil.checkNotNull(settings, "settings");
            return this;
        }

        /** More adapter settings (MAC, IPv6, neighbour bounds, ...), applied after the gateway's address. */
        public Builder adapter(Consumer<L2Adapter.Builder> settings) {
            this.adapterSettings = ObjectUtil.checkNotNull(settings, "settings");
            return this;
        }

        public Gateway build() {
            L2Adapter.Builder ab = L2Adapter.builder().ipv4(Ip4.toInet(address), prefixLength);
            adapterSettings.accept(ab);
            L2Adapter adapter = ab.build();
            String gw = Ip4.format(address);
            String first = poolFirst;
            String last = poolLast;
            if (first == null) {
                int mask = Ip4.mask(prefixLength);
                int network = address & mask;
                int broadcast = network | ~mask;
                // Compare as unsigned host numbers within the subnet.
                long above = Integer.toUnsignedLong(broadcast - 1) - Integer.toUnsignedLong(address);
                long below = Integer.toUnsignedLong(address - 1) - Integer.toUnsignedLong(network + 1) + 1;
                if (above >= below) {
                    first = Ip4.format(address + 1);
                    last = Ip4.format(broadcast - 1);
                } else {
                    first = Ip4.format(network + 1);
                    last = Ip4.format(address - 1);
                }
            }
            DhcpServer.Builder db = DhcpServer.builder().serverMac(adapter.mac()).serverAddress(gw, prefixLength)
                    .pool(first, last).router(gw);
            if (dns != null) {
                db.dnsServer(dns);
            }
            if (domain != null) {
                db.domainName(domain);
            }
            dhcpSettings.accept(db);
            return new Gateway(adapter, db.build());
        }
    }
}
