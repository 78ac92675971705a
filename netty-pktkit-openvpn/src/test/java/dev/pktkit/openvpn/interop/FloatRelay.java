package dev.pktkit.openvpn.interop;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;

import java.net.InetSocketAddress;

/**
 * A UDP relay on loopback that makes a client's address change under it (a NAT rebinding): the client talks to
 * {@link #port()}; its datagrams leave towards the server from upstream socket {@link #current} (switchable), and
 * the server's answers go back to the client's last address.
 */
final class FloatRelay {
    final Channel downstream;
    final Channel[] upstream = new Channel[2];
    volatile int current;
    volatile InetSocketAddress client;

    /** {@code datagrams}: a bootstrap with its group and datagram channel set (cloned for each socket). */
    FloatRelay(Bootstrap datagrams, InetSocketAddress server) throws InterruptedException {
        for (int i = 0; i < 2; i++) {
            upstream[i] = datagrams.clone().handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                @Override
                protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                    if (client != null) {
                        downstream.writeAndFlush(new DatagramPacket(p.content().retain(), client));
                    }
                }
            }).bind("127.0.0.1", 0).sync().channel();
        }
        downstream = datagrams.clone().handler(new SimpleChannelInboundHandler<DatagramPacket>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                client = p.sender();
                upstream[current].writeAndFlush(new DatagramPacket(p.content().retain(), server));
            }
        }).bind("127.0.0.1", 0).sync().channel();
    }

    int port() {
        return ((InetSocketAddress) downstream.localAddress()).getPort();
    }

    InetSocketAddress upstreamAddress(int i) {
        return (InetSocketAddress) upstream[i].localAddress();
    }

    void close() throws InterruptedException {
        downstream.close().sync();
        upstream[0].close().sync();
        upstream[1].close().sync();
    }
}
