package dev.pktkit.vtcp.host;

import dev.pktkit.testkit.TestLoops;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A write's promise completes when its bytes enter the send buffer, so a listener on it may shut the output down
 * or close the channel at once — as relays (slirp) do when the other side finished. The FIN that queues must come
 * after every byte written before it, including the ones handed over in the same flush.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WriteThenCloseOrderTest {

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void finFromAWriteListenerComesAfterTheData(boolean close) throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1)) {
            byte[] data = VirtualSocketChannelTest.random(200_000, 7);
            CompletableFuture<byte[]> received = new CompletableFuture<>();
            Channel server = new ServerBootstrap().group(n.group).channelFactory(n.b.serverSocketChannels())
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        final ByteBuf got = Unpooled.buffer();

                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ByteBuf b = (ByteBuf) msg;
                            got.writeBytes(b);
                            b.release();
                        }

                        @Override
                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                            if (evt instanceof ChannelInputShutdownEvent) {
                                finish();
                                ctx.close();
                            }
                        }

                        @Override
                        public void channelInactive(ChannelHandlerContext ctx) {
                            finish();
                        }

                        private void finish() {
                            if (!received.isDone()) {
                                byte[] a = new byte[got.readableBytes()];
                                got.getBytes(0, a);
                                received.complete(a);
                                got.release();
                            }
                        }
                    }).bind(80).sync().channel();
            Channel c = new Bootstrap().group(n.group).channelFactory(n.a.socketChannels())
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect(new InetSocketAddress("10.0.0.2", 80)).sync().channel();
            c.eventLoop().submit(() -> {
                // several writes in one flush; the first one's listener ends the stream straight away
                ChannelFuture first = c.write(Unpooled.wrappedBuffer(data, 0, 1000));
                first.addListener(f -> {
                    if (close) {
                        c.close();
                    } else {
                        ((SocketChannel) c).shutdownOutput();
                    }
                });
                c.write(Unpooled.wrappedBuffer(data, 1000, 99_000));
                c.writeAndFlush(Unpooled.wrappedBuffer(data, 100_000, 100_000));
            }).sync();
            byte[] got = received.get(30, TimeUnit.SECONDS);
            // Never less than the write whose listener ended the stream. A shutdown sends everything written
            // before it; a close may fail writes still waiting in Netty's outbound buffer (as NIO does), but what
            // arrives is always an unbroken prefix.
            assertTrue(got.length >= 1000, "only " + got.length + " bytes arrived");
            if (!close) {
                assertEquals(data.length, got.length);
            }
            assertArrayEquals(Arrays.copyOf(data, got.length), got);
            c.closeFuture().sync();
            server.close().sync();
        }
    }
}
