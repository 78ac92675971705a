package dev.pktkit.codec.adapter;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.EventExecutor;

/**
 * The narrow interface between an {@link L2Adapter}'s link layer ({@link EthernetFraming}) and its host parts
 * ({@link Ipv4Host} with ARP and the {@link DhcpClient}, {@link Ipv6Host} with NDP, and their
 * {@link NeighborResolver}s): what a host part may ask of the link. The host parts never see the pipeline.
 * Everything here runs on the adapter's event loop.
 */
interface AdapterLink {
    /** The adapter's MAC. */
    long mac();

    /** The coarse clock of the data path (ticker nanoseconds), refreshed by a 1 s tick and on control events. */
    long now();

    /** Reads the loop's ticker, stores it as {@link #now()} and returns it. */
    long freshNow();

    /** The channel, for log messages. */
    Channel channel();

    /** The channel's event loop, for timers. */
    EventExecutor executor();

    /** The channel's allocator. */
    ByteBufAllocator alloc();

    /** The channel's void promise. */
    ChannelPromise voidPromise();

    /** The adapter's counters. */
    AdapterCounters counters();

    /** A buffer for a packet a host part builds, with {@link L2Adapter#HEADROOM} reserved. */
    ByteBuf packetBuffer(int capacity);

    /**
     * True (and counted) when the port is not writable: then the adapter sends none of its own messages (ARP,
     * NDP, DHCP), so a slow or stuck reader bounds what it queues at the channel's write-buffer high water mark.
     */
    boolean congested();

    /** Frames {@code pkt} to {@code dstMac} with {@code etherType} and writes it, not flushed; takes ownership. */
    void sendFrame(ByteBuf pkt, long dstMac, int etherType, ChannelPromise promise);

    /** Writes and flushes a whole frame a host part built (ARP); takes ownership. */
    void sendControlFrame(ByteBuf frame);

    /** Sends an IPv4 packet a host part built to {@code dstMac} and flushes, unless {@link #congested()}. */
    void sendIpv4To(ByteBuf pkt, long dstMac, ChannelPromise promise);

    /** Sends an NDP packet a host part built to {@code dstMac} and flushes, unless {@link #congested()}. */
    void sendIpv6To(ByteBuf pkt, long dstMac);

    /** Flushes what {@link #sendFrame} wrote. */
    void flush();

    /** Drops an outbound packet: counts it, releases it, fails its promise with {@code NoRouteToHostException}. */
    void dropOut(ByteBuf pkt, ChannelPromise promise, AdapterDropReason reason);

    /** Passes a packet the adapter made (an ICMP error) up the pipeline as if it had been received. */
    void deliverUp(ByteBuf packet);

    /** Fires a user event up the pipeline. */
    void fire(AdapterEvent event);

    /** Accepts frames to group MAC {@code groupMac} (subscriptions are counted). */
    void addGroup(long groupMac);

    /** Removes one subscription of {@code groupMac}. */
    void removeGroup(long groupMac);

    /** The next IPv4 identification value for a packet the adapter builds. */
    int nextIpId();
}
