package dev.pktkit.switching;

import dev.pktkit.codec.buffer.Buffers;
import dev.pktkit.codec.offload.OffloadPacket;
import dev.pktkit.codec.offload.Offloads;
import dev.pktkit.codec.wire.Ipv4;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

/** A port of an {@link L3Hub}: its channel, its own prefixes and counters. */
public final class L3Port extends HubPort {
    final L3Hub l3hub;
    final L3PortOptions options;
    /** Error-rate limiter state; touched only on this port's loop. */
    private long icmpWindowStart;
    private int icmpInWindow;
    private int icmpId;

    L3Port(L3Hub hub, Channel channel, L3PortOptions options) {
        super(hub, channel);
        this.l3hub = hub;
        this.options = options;
    }

    public L3PortOptions options() {
        return options;
    }

    @Override
    protected void receive(ByteBuf pkt) {
        receive(pkt, null);
    }

    /**
     * Routes a packet with offload state and keeps the state: the only change a router makes, the TTL / hop limit
     * (and the IPv4 header checksum), is outside what a partial transport checksum covers (the pseudo-header has
     * no TTL), so a partial checksum stays partial and a large segment stays large, as Linux forwards them. The
     * egress port gets the state if its channel accepts it, else a plain packet with the state completed.
     * Multicast and broadcast are completed first and flooded as plain packets.
     */
    @Override
    protected void receive(OffloadPacket p) {
        receive(p.content(), p);
    }

    /** {@code meta}: the offload state whose content {@code pkt} is, or null for a plain packet. */
    private void receive(ByteBuf pkt, OffloadPacket meta) {
        int off = pkt.readerIndex();
        int len = pkt.readableBytes();
        if (len < 1) {
            drop(pkt, DropReason.MALFORMED);
            return;
        }
        int version = pkt.getUnsignedByte(off) >>> 4;
        if (version == 4) {
            receive4(pkt, off, len, meta);
        } else if (version == 6) {
            receive6(pkt, off, len, meta);
        } else {
            drop(pkt, DropReason.MALFORMED);
        }
    }

    private void receive4(ByteBuf pkt, int off, int len, OffloadPacket meta) {
        if (len < 20) {
            drop(pkt, DropReason.MALFORMED);
            return;
        }
        int ihl = (pkt.getUnsignedByte(off) & 0x0F) << 2;
        int total = pkt.getUnsignedShort(off + 2);
        if (ihl < 20 || total < ihl || total > len) {
            drop(pkt, DropReason.MALFORMED);
            return;
        }
        int dst = pkt.getInt(off + 16);
        if (dst == -1 || (dst >>> 28) == 0xE) {
            flood(pkt, meta); // limited broadcast, multicast
            return;
        }
        L3Hub hub = l3hub;
        L3Port out = hub.v4.lookup(dst);
        if (out == null || !out.attached) {
            hub.unreachable(this, pkt);
            return;
        }
        if (out == this) {
            drop(pkt, DropReason.SAME_PORT);
            return;
        }
        int mtu = out.options.mtu();
        if (mtu != 0 && wireLength(total, meta) > mtu) {
            // DF (RFC 791 flags bit 1): answer; without DF a router would fragment, this hub drops
            hub.packetTooBig(this, pkt, mtu, (pkt.getUnsignedByte(off + 6) & 0x40) != 0);
            return;
        }
        if (hub.routerMode) {
            int ttl = pkt.getUnsignedByte(off + 8);
            if (ttl <= 1) {
                hub.timeExceeded(this, pkt);
                return;
            }
            ByteBuf own = Buffers.exclusive(pkt, channel.alloc());
            Ipv4.decrementTtl(own, own.readerIndex());
            forward(out, own, meta, pkt);
            return;
        }
        forward(out, pkt, meta, pkt);
    }

    private void receive6(ByteBuf pkt, int off, int len, OffloadPacket meta) {
        if (len < 40 || 40 + pkt.getUnsignedShort(off + 4) > len) {
            drop(pkt, DropReason.MALFORMED);
            return;
        }
        long hi = pkt.getLong(off + 24);
        long lo = pkt.getLong(off + 32);
        if ((hi >>> 56) == 0xFF) {
            flood(pkt, meta); // multicast
            return;
        }
        L3Hub hub = l3hub;
        L3Port out = hub.v6.lookup(hi, lo);
        if (out == null || !out.attached) {
            hub.unreachable(this, pkt);
            return;
        }
        if (out == this) {
            drop(pkt, DropReason.SAME_PORT);
            return;
        }
        int mtu = out.options.mtu();
        if (mtu != 0 && wireLength(40 + pkt.getUnsignedShort(off + 4), meta) > mtu) {
            hub.packetTooBig(this, pkt, mtu, true); // IPv6 routers never fragment (RFC 8200 §5)
            return;
        }
        if (hub.routerMode) {
            int hops = pkt.getUnsignedByte(off + 7);
            if (hops <= 1) {
                hub.timeExceeded(this, pkt);
                return;
            }
            ByteBuf own = Buffers.exclusive(pkt, channel.alloc());
            own.setByte(own.readerIndex() + 7, hops - 1); // IPv6 has no header checksum
            forward(out, own, meta, pkt);
            return;
        }
        forward(out, pkt, meta, pkt);
    }

    /**
     * The largest IP packet {@code length} bytes become on the wire: a large segment with offload state is cut into
     * packets of its header plus the segment size.
     */
    private static int wireLength(int length, OffloadPacket meta) {
        if (meta != null && meta.isGso() && meta.gsoSize() > 0) {
            return Math.min(length, meta.headerLength() + meta.gsoSize());
        }
        return length;
    }

    /**
     * Sends {@code pkt} to {@code out}: plain, or with {@code meta}'s offload state ({@code pkt} replacing
     * {@code was}, meta's content, when the router had to copy it).
     */
    private void forward(L3Port out, ByteBuf pkt, OffloadPacket meta, ByteBuf was) {
        if (meta == null) {
            out.send(this, pkt);
        } else {
            out.send(this, pkt == was ? meta : meta.replace(pkt), false);
        }
    }

    /**
     * Delivers to every port but this one; consumes {@code pkt}. The last port gets {@code pkt} itself, the others a
     * {@code retainedDuplicate()} each (see {@code L2Port}'s flood).
     */
    private void flood(ByteBuf pkt, OffloadPacket meta) {
        if (meta != null) {
            pkt = Offloads.complete(meta, channel.alloc(), false);
            if (pkt == null) {
                counters.dropped(DropReason.MALFORMED);
                return;
            }
        }
        HubPort pending = null;
        for (HubPort p : hub.portArray()) {
            if (p != this) {
                if (pending != null) {
                    pending.send(this, pkt.retainedDuplicate());
                }
                pending = p;
            }
        }
        if (pending != null) {
            pending.send(this, pkt);
        } else {
            pkt.release();
        }
    }

    void drop(ByteBuf pkt, DropReason reason) {
        counters.dropped(reason);
        pkt.release();
    }

    /**
     * Whether another ICMP error may be sent from this port now (a window of {@code perSecond} per second). Only
     * looks: the token is spent by {@link #icmpSent()} once an error was really built and sent, so packets that
     * get no error (errors about errors, fragments, multicast) do not use up the budget.
     */
    boolean icmpAllowed(int perSecond) {
        long t = System.nanoTime(); // error path only
        if (t - icmpWindowStart >= 1_000_000_000L) {
            icmpWindowStart = t;
            icmpInWindow = 0;
        }
        return icmpInWindow < perSecond;
    }

    /** Spends one token of the ICMP error window. */
    void icmpSent() {
        icmpInWindow++;
    }

    /** IPv4 identification for the next ICMP error this port sends. */
    int nextIcmpId() {
        return icmpId++ & 0xFFFF;
    }

    /** Sends a packet the hub generated (an ICMP error) out of this port and flushes it with the batch. */
    void reply(ByteBuf pkt) {
        send(this, pkt);
    }
}
