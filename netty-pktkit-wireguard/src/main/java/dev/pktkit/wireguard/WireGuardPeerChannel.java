package dev.pktkit.wireguard;

import dev.pktkit.codec.pipe.TunnelPeerChannel;
import io.netty.buffer.ByteBuf;

import java.net.SocketAddress;

/**
 * One WireGuard peer as an L3 port: a child {@link io.netty.channel.Channel} of the endpoint's UDP channel, the
 * way HTTP/2 streams are children of their connection. Reads are the IPv4/IPv6 packets the peer sent (decrypted,
 * padding removed, source checked against its allowed IPs); writes are packets to seal and send to it. Attach it
 * to an {@code L3Hub}, a {@code TunChannel} or any packet device through {@code PortConnector}.
 *
 * <p>It runs on its parent's event loop. Closing it removes the peer from the endpoint (keys wiped, timers
 * stopped, pending packets released); removing the peer closes it. Ownership: a read hands one reference to the
 * pipeline; a write takes one. Non-{@code ByteBuf} writes fail with {@link UnsupportedOperationException}.
 *
 * <p>With auto-read off, decrypted packets wait (up to the endpoint's {@code maxQueuedPerPeer}, then dropped and
 * counted as {@link WireGuardDropReason#INBOUND_QUEUE_FULL}) until {@code read()}.
 */
public final class WireGuardPeerChannel extends TunnelPeerChannel {
    private final WireGuardEndpoint endpoint;
    final Peer peer;
    private final WireGuardPeerAddress address;

    WireGuardPeerChannel(WireGuardEndpoint endpoint, io.netty.channel.Channel parent, Peer peer) {
        super(parent, "a WireGuard peer channel");
        this.endpoint = endpoint;
        this.peer = peer;
        this.address = new WireGuardPeerAddress(peer.publicKey);
    }

    /** The peer's public key. */
    public WireGuardKey publicKey() {
        return peer.publicKey;
    }

    /** The endpoint this peer belongs to. */
    public WireGuardEndpoint endpoint() {
        return endpoint;
    }

    /** A snapshot of the peer's state (call from any thread; reads racily off the loop). */
    public WireGuardPeerStatus status() {
        return peer.status();
    }

    @Override
    protected SocketAddress localAddress0() {
        return address;
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return address;
    }

    @Override
    protected void writePacket(ByteBuf packet) {
        endpoint.sendPacket(peer, packet);
    }

    @Override
    protected void flushPackets() {
        endpoint.flushParent();
    }

    @Override
    protected void inboundQueueFull() {
        endpoint.countDrop(WireGuardDropReason.INBOUND_QUEUE_FULL);
    }

    @Override
    protected void closed() {
        endpoint.peerChannelClosed(peer);
    }

    /** From the endpoint, on the loop: one decrypted packet for this peer. */
    void deliver(ByteBuf packet, int maxQueued) {
        deliverPacket(packet, maxQueued);
    }

    /** From the endpoint at the end of its read batch. */
    void completeRead() {
        completeReadBatch();
    }

    /** Closes from the endpoint's side (peer removed). */
    void closeFromEndpoint() {
        closeIfOpen();
    }
}
