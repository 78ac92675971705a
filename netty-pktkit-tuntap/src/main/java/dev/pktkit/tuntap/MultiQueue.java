package dev.pktkit.tuntap;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Opens a multi-queue TUN/TAP device ({@code IFF_MULTI_QUEUE}) as several channels, one per queue. The kernel
 * spreads the flows it sends across the queues (by flow hash); each channel is registered on the next loop of
 * the bootstrap's group, so the queues are served in parallel.
 *
 * <pre>{@code
 * Bootstrap b = new Bootstrap().group(group).channelFactory(TunChannel::new).handler(myHandler);
 * List<Channel> queues = MultiQueue.bind(b, TunTapAddress.of("pkmq0"), 4).sync().getNow();
 * }</pre>
 */
public final class MultiQueue {
    /** The kernel's limit on queues per device ({@code MAX_TAP_QUEUES}). */
    public static final int MAX_QUEUES = 256;

    private MultiQueue() {
    }

    /**
     * Binds {@code queues} channels made by {@code bootstrap} (with {@link TunTapChannelOption#MULTI_QUEUE} set on
     * a copy of it) to {@code address}: the first creates the device (or attaches), the others attach. The
     * future holds the channels in queue order; if one fails, those already bound are closed and the future
     * fails with its cause.
     */
    public static io.netty.util.concurrent.Future<List<Channel>> bind(Bootstrap bootstrap, TunTapAddress address,
                                                                      int queues) {
        Objects.requireNonNull(bootstrap, "bootstrap");
        Objects.requireNonNull(address, "address");
        if (queues < 1 || queues > MAX_QUEUES) {
            throw new IllegalArgumentException("queues must be 1.." + MAX_QUEUES + ": " + queues);
        }
        Bootstrap b = bootstrap.clone().option(TunTapChannelOption.MULTI_QUEUE, true);
        Promise<List<Channel>> result = GlobalEventExecutor.INSTANCE.newPromise();
        List<Channel> bound = new ArrayList<>(queues);
        bindNext(b, address, queues, bound, result);
        return result;
    }

    private static void bindNext(Bootstrap b, TunTapAddress address, int queues, List<Channel> bound,
                                 Promise<List<Channel>> result) {
        if (bound.size() == queues) {
            result.setSuccess(List.copyOf(bound));
            return;
        }
        // after the first queue the device exists, under the name the kernel gave it
        TunTapAddress next = bound.isEmpty() ? address
                : TunTapAddress.attach(((AbstractTunTapChannel) bound.get(0)).localAddress().name());
        ChannelFuture f = b.bind(next);
        f.addListener(done -> {
            if (done.isSuccess()) {
                bound.add(f.channel());
                bindNext(b, address, queues, bound, result);
            } else {
                for (Channel c : bound) {
                    c.close();
                }
                result.setFailure(done.cause());
            }
        });
    }
}
