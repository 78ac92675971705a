package dev.pktkit.tuntap;

import dev.pktkit.linux.netlink.LinkInfo;
import dev.pktkit.linux.NetNamespace;
import dev.pktkit.linux.netlink.RtNetlink;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;

import java.net.InetAddress;
import java.util.Objects;

/**
 * The network interface of a bound TUN/TAP channel, configured through rtnetlink in the device's namespace: no
 * {@code ip} command, no shell. Each call is one rtnetlink request made on the calling thread, which waits for the
 * kernel's answer (microseconds, unless another process holds the kernel's rtnetlink lock: then up to
 * {@link RtNetlink#TIMEOUT_SECONDS} s), so call it from a thread that may block, not from an event loop; the
 * channel's own loop never waits for these calls. The methods return this object for chaining and throw
 * {@link dev.pktkit.linux.netlink.NetlinkException} with the kernel's error.
 *
 * <pre>{@code
 * tun.link().mtu(1400).addAddress("10.9.0.1/24").addAddress("fd00:9::1/64").up().addRoute("10.10.0.0/16");
 * }</pre>
 *
 * Addresses and routes are literals ({@code 10.9.0.1/24}, {@code fd00::1/64}); nothing is resolved by name.
 */
public final class TunTapLink {
    private final AbstractTunTapChannel ch;

    TunTapLink(AbstractTunTapChannel ch) {
        this.ch = ch;
    }

    /** The interface name. */
    public String name() {
        return ch.localAddress().name();
    }

    /** The interface index in the device's namespace. */
    public int index() {
        return ch.localAddress().index();
    }

    /** What the kernel says about the interface now. */
    public LinkInfo info() {
        return ch.setup.netlinkForLinkCall().link(index());
    }

    /** Sets the MTU; the channel sizes its reads to it. */
    public TunTapLink mtu(int mtu) {
        ch.setup.netlinkForLinkCall().setMtu(index(), mtu);
        ch.mtuSet(mtu);
        return this;
    }

    /** Sets the interface up. */
    public TunTapLink up() {
        ch.setup.netlinkForLinkCall().setUp(index(), true);
        return this;
    }

    /** Sets the interface down. */
    public TunTapLink down() {
        ch.setup.netlinkForLinkCall().setUp(index(), false);
        return this;
    }

    /** Adds an address, {@code 10.9.0.1/24} or {@code fd00::1/64} (IPv6 without duplicate address detection). */
    public TunTapLink addAddress(String cidr) {
        Cidr c = Cidr.parse(cidr);
        ch.setup.netlinkForLinkCall().addAddress(index(), c.address, c.prefixLength);
        return this;
    }

    /** Adds {@code address/prefixLength}. */
    public TunTapLink addAddress(InetAddress address, int prefixLength) {
        ch.setup.netlinkForLinkCall().addAddress(index(), address, prefixLength);
        return this;
    }

    /** Removes an address given as {@code 10.9.0.1/24}. */
    public TunTapLink deleteAddress(String cidr) {
        Cidr c = Cidr.parse(cidr);
        ch.setup.netlinkForLinkCall().deleteAddress(index(), c.address, c.prefixLength);
        return this;
    }

    /** Routes {@code cidr} (e.g. {@code 10.10.0.0/16}, {@code 0.0.0.0/0}) directly onto this link. */
    public TunTapLink addRoute(String cidr) {
        Cidr c = Cidr.parse(cidr);
        ch.setup.netlinkForLinkCall().addRoute(c.address, c.prefixLength, index(), null);
        return this;
    }

    /** Routes {@code cidr} through this link via {@code gateway} (a literal address). */
    public TunTapLink addRoute(String cidr, String gateway) {
        Cidr c = Cidr.parse(cidr);
        ch.setup.netlinkForLinkCall().addRoute(c.address, c.prefixLength, index(), Cidr.literal(gateway));
        return this;
    }

    /** Sets the link-layer address of a TAP device (low 48 bits of {@code mac}). */
    public TunTapLink macAddress(long mac) {
        ch.setup.netlinkForLinkCall().setMacAddress(index(), mac);
        return this;
    }

    /**
     * Moves the device into {@code target}; the channel keeps working, and later calls configure the device
     * there. Addresses and routes do not move with it (the kernel drops them); set them again in the target.
     */
    public TunTapLink moveTo(NetNamespace target) {
        Objects.requireNonNull(target, "target");
        String name = name();
        ch.setup.netlinkForLinkCall().moveToNamespace(index(), target);
        RtNetlink there = RtNetlink.open(target);
        try {
            int index = there.link(name).index();
            ch.movedTo(target, there, index);
        } catch (RuntimeException e) {
            there.close();
            throw e;
        }
        return this;
    }

    @Override
    public String toString() {
        return "TunTapLink(" + ch.localAddress() + " in " + ch.where() + ")";
    }

    /** An address literal with a prefix length. */
    record Cidr(InetAddress address, int prefixLength) {
        static Cidr parse(String cidr) {
            Objects.requireNonNull(cidr, "cidr");
            int slash = cidr.indexOf('/');
            InetAddress a = literal(slash < 0 ? cidr : cidr.substring(0, slash));
            int max = a.getAddress().length * 8;
            int len;
            try {
                len = slash < 0 ? max : Integer.parseInt(cidr.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a prefix length in '" + cidr + "'");
            }
            if (len < 0 || len > max) {
                throw new IllegalArgumentException("prefix length out of range in '" + cidr + "'");
            }
            return new Cidr(a, len);
        }

        /** The address {@code text} names, through codec's one parser ({@link Ip4#parse}, {@link Ip6#parseBytes}). */
        static InetAddress literal(String text) {
            try {
                return text.indexOf(':') >= 0 ? Ip6.toInet(Ip6.parseHi(text), Ip6.parseLo(text))
                        : Ip4.toInet(Ip4.parse(text));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not an IP address literal: '" + text + "'", e);
            }
        }
    }
}
