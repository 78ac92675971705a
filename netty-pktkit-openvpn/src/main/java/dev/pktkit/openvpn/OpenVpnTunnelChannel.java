package dev.pktkit.openvpn;

import dev.pktkit.codec.pipe.TunnelPeerChannel;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The tunnel of an {@link OpenVpnClient} as an L3 port: a child {@link Channel} of the transport channel (UDP or
 * TCP) to the server. Reads are the IP packets the server sent (decrypted); writes are IP packets to encrypt and
 * send through the tunnel. Attach it to an {@code L3Hub} (route the server's networks, e.g.
 * {@link OpenVpnPushReply#routes()}, to it) or to a TUN channel. Its addresses are the pushed ones
 * ({@link #pushReply()}).
 *
 * <p>It runs on the transport's event loop. Closing it sends explicit-exit-notify and closes the transport; the
 * transport going away (or {@code ping-restart}, {@code RESTART}, {@code HALT}) closes it. Ownership: a read hands
 * one reference to the pipeline; a write takes one. With auto-read off, packets wait (up to the client's
 * {@code maxQueued}, then dropped and counted as {@link OpenVpnDropReason#INBOUND_QUEUE_FULL}) until
 * {@code read()}.
 */
public final class OpenVpnTunnelChannel extends TunnelPeerChannel {
    private final OpenVpnClient client;
    private final OpenVpnPushReply pushReply;

    OpenVpnTunnelChannel(OpenVpnClient client, Channel transport, OpenVpnPushReply pushReply) {
        super(transport, "an OpenVPN tunnel channel");
        this.client = client;
        this.pushReply = pushReply;
    }

    /** What the server pushed: addresses, routes, DNS, redirect-gateway, cipher. */
    public OpenVpnPushReply pushReply() {
        return pushReply;
    }

    /** Our tunnel address ({@code ifconfig}). */
    public Inet4Address tunnelAddress() {
        return pushReply.address();
    }

    /** The client handler this tunnel belongs to. */
    public OpenVpnClient client() {
        return client;
    }

    @Override
    protected SocketAddress localAddress0() {
        return new InetSocketAddress(pushReply.address(), 0);
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return parent().remoteAddress();
    }

    @Override
    protected void writePacket(ByteBuf packet) {
        client.sendData(packet);
    }

    @Override
    protected void flushPackets() {
        client.flush();
    }

    @Override
    protected void inboundQueueFull() {
        client.countDrop(OpenVpnDropReason.INBOUND_QUEUE_FULL);
    }

    @Override
    protected void closed() {
        client.tunnelClosed();
    }

    /** From the client, on the loop: one decrypted packet from the server. */
    void deliver(ByteBuf packet, int maxQueued) {
        deliverPacket(packet, maxQueued);
    }

    /** From the client at the end of its read batch. */
    void completeRead() {
        completeReadBatch();
    }

    void closeFromClient() {
        closeIfOpen();
    }
}
