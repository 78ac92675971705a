package dev.pktkit.codec.pipe;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.internal.ObjectUtil;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-VM pair of channels, {@link #a()} and {@link #b()}, where a write on one end is a read on the other.
 *
 * <p>This is the virtual cable of the toolkit: put a device handler on one end and attach the other end to a
 * hub, or put two devices on the two ends ({@link #connect}). Messages are usually L2 frames or L3 packets as
 * {@code ByteBuf}s, but any message passes; each write arrives as exactly one read (boundaries kept).
 * Ownership moves with the message: the reader must release it.
 *
 * <p>Why not Netty's {@code LocalChannel} (each point checked by {@code LocalChannelComparisonTest} against the
 * Netty in use): it merges the {@code ByteBuf}s of one flush into one read, which is right for a byte stream but
 * breaks frame boundaries; a pair needs a bound {@code LocalServerChannel} (a JVM-wide address registry) and a
 * connect through it; it registers only with loops that take its {@code LocalIoHandle} (a NIO, epoll or io_uring
 * loop refuses it), so a device could not share the loop of the transport it serves; and nothing bounds what
 * waits unread at a slow reader (its writer stays writable). A pipe is two channels with no address, on any
 * loops, synchronous on a shared loop, with a byte and a message bound per end.
 *
 * <p>The ends run on any event-loop type and may sit on different loops; see {@link PipeChannel} for delivery,
 * back-pressure and close semantics.
 *
 * <pre>{@code
 * PacketPipe pipe = PacketPipe.open(loop, myDeviceHandler, loop, null).sync().getNow();
 * hub.add(pipe.b());   // the device is now a port of the hub
 * }</pre>
 */
public final class PacketPipe {
    /** Default bound on bytes waiting unread at either end: 1 MiB. */
    public static final int DEFAULT_IN_FLIGHT_LIMIT = 1 << 20;
    /** Default bound on messages waiting unread at either end: 1024 (each end holds a ring of this many slots). */
    public static final int DEFAULT_MAX_MESSAGES_IN_FLIGHT = 1024;
    private static final AtomicLong IDS = new AtomicLong();

    private final PipeChannel a;
    private final PipeChannel b;
    private final int inFlightLimit;
    private final int maxMessagesInFlight;

    /** A new, unregistered pipe with the default in-flight limits. */
    public PacketPipe() {
        this(DEFAULT_IN_FLIGHT_LIMIT, DEFAULT_MAX_MESSAGES_IN_FLIGHT);
    }

    /** A new, unregistered pipe with {@link #DEFAULT_MAX_MESSAGES_IN_FLIGHT}. */
    public PacketPipe(int inFlightLimit) {
        this(inFlightLimit, DEFAULT_MAX_MESSAGES_IN_FLIGHT);
    }

    /**
     * A new, unregistered pipe.
     *
     * @param inFlightLimit       bytes that may wait unread at an end before the writing end keeps further writes
     *                            in its own outbound buffer (and so, past its water marks, turns unwritable)
     * @param maxMessagesInFlight messages that may wait unread at an end, the same way (rounded up to a power of
     *                            two; each end allocates a ring of that many slots)
     */
    public PacketPipe(int inFlightLimit, int maxMessagesInFlight) {
        this.inFlightLimit = ObjectUtil.checkPositive(inFlightLimit, "inFlightLimit");
        ObjectUtil.checkInRange(maxMessagesInFlight, 1, 1 << 20, "maxMessagesInFlight");
        this.maxMessagesInFlight = maxMessagesInFlight == 1 ? 1 : Integer.highestOneBit(maxMessagesInFlight - 1) << 1;
        long id = IDS.incrementAndGet();
        a = new PipeChannel(this, new PipeAddress(id, 'a'), this.maxMessagesInFlight);
        b = new PipeChannel(this, new PipeAddress(id, 'b'), this.maxMessagesInFlight);
        a.peer(b);
        b.peer(a);
    }

    /**
     * Opens a pipe: adds {@code handlerA} to end a's pipeline and {@code handlerB} to end b's (either may be
     * null), registers a with {@code loopA} and b with {@code loopB}, and completes when both are registered.
     */
    public static Future<PacketPipe> open(EventLoop loopA, ChannelHandler handlerA,
                                          EventLoop loopB, ChannelHandler handlerB) {
        PacketPipe pipe = new PacketPipe();
        if (handlerA != null) {
            pipe.a.pipeline().addLast(handlerA);
        }
        if (handlerB != null) {
            pipe.b.pipeline().addLast(handlerB);
        }
        return pipe.register(loopA, loopB);
    }

    /**
     * Wires two devices together point to point: what {@code deviceA} writes, {@code deviceB} reads, and back.
     * The same as {@link #open} with both handlers given.
     */
    public static Future<PacketPipe> connect(EventLoop loopA, ChannelHandler deviceA,
                                             EventLoop loopB, ChannelHandler deviceB) {
        return open(loopA, ObjectUtil.checkNotNull(deviceA, "deviceA"),
                loopB, ObjectUtil.checkNotNull(deviceB, "deviceB"));
    }

    /** Registers end a with {@code loopA} and end b with {@code loopB}; completes when both are registered. */
    public Future<PacketPipe> register(EventLoop loopA, EventLoop loopB) {
        Promise<PacketPipe> done = loopA.newPromise();
        AtomicInteger left = new AtomicInteger(2);
        io.netty.util.concurrent.GenericFutureListener<ChannelFuture> each = f -> {
            if (!f.isSuccess()) {
                if (done.tryFailure(f.cause())) {
                    close();
                }
            } else if (left.decrementAndGet() == 0) {
                done.trySuccess(this);
            }
        };
        loopA.register(a).addListener(each);
        loopB.register(b).addListener(each);
        return done;
    }

    public PipeChannel a() {
        return a;
    }

    public PipeChannel b() {
        return b;
    }

    /** The end that is not {@code end}. */
    public PipeChannel other(PipeChannel end) {
        if (end == a) {
            return b;
        }
        if (end == b) {
            return a;
        }
        throw new IllegalArgumentException(end + " is not an end of " + this);
    }

    /** Bytes that may wait unread at an end. */
    public int inFlightLimit() {
        return inFlightLimit;
    }

    /** Messages that may wait unread at an end (a power of two). */
    public int maxMessagesInFlight() {
        return maxMessagesInFlight;
    }

    /** Closes both ends (each on its own loop). */
    public void close() {
        a.close();
        b.close();
    }

    @Override
    public String toString() {
        return "PacketPipe(" + a.localAddress0() + " <-> " + b.localAddress0() + ")";
    }
}
