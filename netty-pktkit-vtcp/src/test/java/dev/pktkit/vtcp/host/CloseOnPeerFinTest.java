package dev.pktkit.vtcp.host;

import dev.pktkit.testkit.TestLoops;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The cause of {@link LossyHostTransferTest}'s failing transfer, made deterministic: the peer's last data and its
 * FIN reach the channel's inbound queue before the channel reads (over a lossy link the reassembly queue delivers
 * the last bytes and the FIN in one go; a child on another loop sees both in one read batch). The pipeline reads
 * the data, then the FIN event runs, and a handler that answers and closes from it — as request/response servers
 * do — must close with FIN. Before the fix, the bytes just read were reported to the engine only at the end of
 * the batch, so the engine's close still saw unread data and reset the connection (RFC 2525 §2.17), discarding
 * the answer: the client got "Connection reset by peer" and no data. Here the channel does not auto-read, so both
 * are queued when the test lets it read; a watcher on the server's link says when the FIN was processed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CloseOnPeerFinTest {
    /** Passes everything on; completes once an IPv4 TCP segment with FIN was handed to the host (and processed). */
    static final class FinWatcher extends ChannelInboundHandlerAdapter {
        final CompletableFuture<Void> finProcessed = new CompletableFuture<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            boolean fin = false;
            if (msg instanceof ByteBuf b && b.readableBytes() >= 40 && (b.getByte(b.readerIndex()) >> 4) == 4
                    && b.getByte(b.readerIndex() + 9) == 6) {
                int ihl = (b.getByte(b.readerIndex()) & 0x0F) * 4;
                fin = (b.getByte(b.readerIndex() + ihl + 13) & 0x01) != 0;
            }
            ctx.fireChannelRead(msg); // the host and its engine process the segment inside this call
            if (fin) {
                finProcessed.complete(null);
            }
        }
    }

    @Test
    void answerAndCloseFromThePeerFinEventSendsTheAnswer() throws Exception {
        FinWatcher watcher = new FinWatcher();
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1, watcher)) {
            CompletableFuture<Channel> child = new CompletableFuture<>();
            CompletableFuture<String> serverGot = new CompletableFuture<>();
            Channel server = new ServerBootstrap().group(n.group).channelFactory(n.b.serverSocketChannels())
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childHandler(new Transfers.Reply() {
                        @Override
                        public void handlerAdded(ChannelHandlerContext ctx) {
                            child.complete(ctx.channel());
                        }

                        @Override
                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                            if (evt instanceof ChannelInputShutdownEvent) {
                                serverGot.complete(got.toString());
                                answer(ctx, got);
                            }
                        }
                    }).bind(80).sync().channel();

            Transfers.Reply answer = new Transfers.Reply();
            Channel c = new Bootstrap().group(n.group).channelFactory(n.a.socketChannels())
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .handler(answer).connect(new InetSocketAddress("10.0.0.2", 80)).sync().channel();
            c.writeAndFlush(Unpooled.copiedBuffer("question", StandardCharsets.US_ASCII)).sync();
            ((SocketChannel) c).shutdownOutput().sync();

            // the data and the FIN now wait, unread, in the child's inbound queue: one read takes both in a batch
            watcher.finProcessed.get(30, TimeUnit.SECONDS);
            Channel ch = child.get(30, TimeUnit.SECONDS);
            ch.eventLoop().execute(ch::read);

            assertEquals("question", serverGot.get(30, TimeUnit.SECONDS));
            assertEquals("answer to question", answer.text.get(30, TimeUnit.SECONDS));
            c.closeFuture().sync();
            server.close().sync();
        }
    }
    /**
     * The same cause from {@code channelRead}: a server that answers and closes while handling the request (an
     * HTTP server with {@code Connection: close}) closes inside the read batch, before the batch's bytes were
     * reported; they count as read, so the close sends FIN after the answer, not RST.
     */
    @Test
    void answerAndCloseFromChannelReadSendsTheAnswer() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1)) {
            Channel server = new ServerBootstrap().group(n.group).channelFactory(n.b.serverSocketChannels())
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ByteBuf b = (ByteBuf) msg;
                            String q = b.toString(StandardCharsets.US_ASCII);
                            b.release();
                            answer(ctx, q);
                        }
                    }).bind(80).sync().channel();
            Transfers.Reply answer = new Transfers.Reply();
            Channel c = new Bootstrap().group(n.group).channelFactory(n.a.socketChannels())
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .handler(answer).connect(new InetSocketAddress("10.0.0.2", 80)).sync().channel();
            // not synced on: with everything on one loop, the answer and both closes can happen inside this write
            c.writeAndFlush(Unpooled.copiedBuffer("question", StandardCharsets.US_ASCII));
            assertEquals("answer to question", answer.text.get(30, TimeUnit.SECONDS));
            c.closeFuture().sync();
            server.close().sync();
        }
    }

    /** Writes "answer to " + the question, then closes once the answer is in the send buffer. */
    static void answer(ChannelHandlerContext ctx, CharSequence question) {
        ctx.writeAndFlush(Unpooled.copiedBuffer("answer to " + question, StandardCharsets.US_ASCII))
                .addListener(ChannelFutureListener.CLOSE);
    }
}
