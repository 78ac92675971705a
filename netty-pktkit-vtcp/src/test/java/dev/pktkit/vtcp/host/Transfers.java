package dev.pktkit.vtcp.host;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.SocketChannel;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/** Bulk transfer helpers: a sender that follows writability and hashes what it sends, a hashing receiver. */
final class Transfers {
    private Transfers() {
    }

    static String hex(byte[] d) {
        return HexFormat.of().formatHex(d);
    }

    /** Sends {@code total} seeded pseudo-random bytes, then shuts the output down; completes with their SHA-256. */
    static final class Sender extends ChannelInboundHandlerAdapter {
        final long total;
        final Random rnd;
        final MessageDigest sha;
        final CompletableFuture<String> done = new CompletableFuture<>();
        final boolean closeAfter;
        long sent;

        Sender(long total, long seed, boolean closeAfter) throws Exception {
            this.total = total;
            this.rnd = new Random(seed);
            this.sha = MessageDigest.getInstance("SHA-256");
            this.closeAfter = closeAfter;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            pump(ctx);
            ctx.fireChannelActive();
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            if (ctx.channel().isActive()) {
                ctx.channel().eventLoop().execute(() -> pump(ctx));
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            pump(ctx);
            ctx.fireChannelWritabilityChanged();
        }

        private void pump(ChannelHandlerContext ctx) {
            Channel ch = ctx.channel();
            while (sent < total && ch.isWritable()) {
                int n = (int) Math.min(64 * 1024, total - sent);
                byte[] b = new byte[n];
                rnd.nextBytes(b);
                sha.update(b);
                sent += n;
                ByteBuf buf = ctx.alloc().directBuffer(n).writeBytes(b);
                ctx.write(buf);
            }
            ctx.flush();
            if (sent >= total && !done.isDone()) {
                done.complete(hex(sha.digest()));
                if (closeAfter) {
                    ctx.channel().close();
                } else if (ch instanceof SocketChannel sc) {
                    sc.shutdownOutput();
                }
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
            if (ctx.pipeline().last() != this) {
                ctx.fireExceptionCaught(cause); // a handler behind this one (a reply reader) learns why
            }
            ctx.close();
        }
    }

    /** Hashes everything read; completes with the SHA-256 and byte count when the channel goes inactive. */
    static final class Receiver extends ChannelInboundHandlerAdapter {
        final MessageDigest sha;
        final CompletableFuture<String> done = new CompletableFuture<>();
        long received;
        private final byte[] scratch = new byte[65536];

        Receiver() throws Exception {
            sha = MessageDigest.getInstance("SHA-256");
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            try {
                while (b.isReadable()) {
                    int n = Math.min(scratch.length, b.readableBytes());
                    b.readBytes(scratch, 0, n);
                    sha.update(scratch, 0, n);
                    received += n;
                }
            } finally {
                b.release();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.complete(hex(sha.digest()) + ":" + received);
            ctx.fireChannelInactive();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
                done.complete(hex(sha.digest()) + ":" + received);
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
            ctx.close();
        }
    }

    /**
     * Collects text until the peer's FIN (with ALLOW_HALF_CLOSURE) or the close, then completes; an exception
     * (a reset) completes it exceptionally.
     */
    static class Reply extends ChannelInboundHandlerAdapter {
        final StringBuilder got = new StringBuilder();
        final CompletableFuture<String> text = new CompletableFuture<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            got.append(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
                text.complete(got.toString());
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            text.complete(got.toString());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            text.completeExceptionally(cause);
            ctx.close();
        }
    }
}
