package dev.pktkit.openvpn;

import dev.pktkit.codec.pipe.TunnelPeerChannel;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * One connected OpenVPN client as an L3 port (TUN mode; Ethernet frames instead of IP packets in TAP mode,
 * {@link OpenVpnServer.Builder#tap}): a child {@link io.netty.channel.Channel} of the
 * server's UDP channel (or of its TCP connection), the way HTTP/2 streams are children of their connection. Reads are the IP packets the
 * client sent (decrypted); writes are IP packets to encrypt and send to it. Attach it to an {@code L3Hub} with
 * {@link L3HubClientAttacher} (its pushed address routed to it), in TAP mode to an {@code L2Hub} with
 * {@link L2HubClientAttacher}, or to any packet device.
 *
 * <p>It runs on the loop the server placed the client on ({@link #eventLoop()}: a TCP client's connection
 * loop; for UDP the loop of the UDP channel's group with the fewest clients), where its packets are decrypted and
 * encrypted; the control channel stays on the server's home loop. Closing it disconnects the client (its session and keys are dropped,
 * its address goes back to the pool); the client going away closes it. Ownership: a read hands one reference to
 * the pipeline; a write takes one. Non-{@code ByteBuf} writes fail with {@link UnsupportedOperationException}.
 * With auto-read off, packets wait (up to {@code maxQueuedPerClient}, then dropped and counted as
 * {@link OpenVpnDropReason#INBOUND_QUEUE_FULL}) until {@code read()}.
 */
public final class OpenVpnClientChannel extends TunnelPeerChannel {
    private final OpenVpnServer server;
    final OpenVpnServer.Session session;
    private final Inet4Address address;

    OpenVpnClientChannel(OpenVpnServer server, io.netty.channel.Channel parent, OpenVpnServer.Session session,
                         Inet4Address address) {
        super(parent, "an OpenVPN client channel");
        this.server = server;
        this.session = session;
        this.address = address;
    }

    /** The tunnel address pushed to this client ({@code ifconfig}). */
    public Inet4Address tunnelAddress() {
        return address;
    }

    /** The IPv6 tunnel address pushed to this client ({@code ifconfig-ipv6}), or null without {@code server-ipv6}. */
    public java.net.Inet6Address tunnelAddress6() {
        return session.address6;
    }

    /** The client's transport address (it changes when the client floats). */
    public InetSocketAddress transportAddress() {
        return session.remote;
    }

    /** What the client presented at authentication. */
    public OpenVpnCredentials credentials() {
        return session.credentials;
    }

    /** The data cipher NCP chose for this client. */
    public String cipher() {
        return session.cipherName();
    }

    /** Whether the data keys came from the TLS exporter ({@code tls-ekm}) rather than the PRF. */
    public boolean keysFromExporter() {
        return session.ekm;
    }

    /**
     * The loop the server placed this client's data channel on at authentication: a TCP client's connection loop,
     * for UDP the least-loaded loop of the UDP channel's group. Its decryption, encryption and this channel's
     * pipeline (the hub port behind it) run there; the control channel stays on the server's home loop.
     */
    @Override
    protected boolean isCompatible(EventLoop loop) {
        OpenVpnServer.LoopState ls = session.ls;
        return ls != null && loop == ls.loop;
    }

    @Override
    protected SocketAddress localAddress0() {
        return new InetSocketAddress(address, 0);
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return session.remote;
    }

    @Override
    protected void writePacket(ByteBuf packet) {
        server.sendData(session, packet);
    }

    @Override
    protected void flushPackets() {
        server.flushLink(session);
    }

    @Override
    protected void inboundQueueFull() {
        server.countDrop(OpenVpnDropReason.INBOUND_QUEUE_FULL);
    }

    @Override
    protected void closed() {
        server.clientChannelClosed(session);
    }

    /** From the server, on the loop: one decrypted packet from this client. */
    void deliver(ByteBuf packet, int maxQueued) {
        deliverPacket(packet, maxQueued);
    }

    /** From the server at the end of its read batch. */
    void completeRead() {
        completeReadBatch();
    }

    void closeFromServer() {
        closeIfOpen();
    }
}
