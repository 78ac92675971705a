package dev.pktkit.tuntap;

import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.WriteBufferWaterMark;

import java.util.Map;
import java.util.Objects;

/**
 * Configuration of a TUN/TAP channel: Netty's usual options plus {@link TunTapChannelOption}s.
 *
 * <p>Defaults that differ from Netty's: the write-buffer water marks are {@value #DEFAULT_LOW_WATER_MARK} /
 * {@value #DEFAULT_HIGH_WATER_MARK} bytes (a large segment is 64 KiB, and a read batch forwarded by a hub may
 * queue many of them before its flush), and at most {@value #DEFAULT_MAX_MESSAGES_PER_WRITE} packets are written
 * per flush round (the io_uring loop keeps at most that many writes in flight). {@code MAX_MESSAGES_PER_READ}
 * is Netty's default for message channels, 16: the size of a read batch, and on io_uring the number of reads
 * submitted at once.
 */
public final class TunTapChannelConfig extends DefaultChannelConfig {
    public static final int DEFAULT_LOW_WATER_MARK = 2 * 1024 * 1024;
    public static final int DEFAULT_HIGH_WATER_MARK = 4 * 1024 * 1024;
    public static final int DEFAULT_MAX_MESSAGES_PER_WRITE = 64;

    private final AbstractTunTapChannel tunTap;
    private volatile OffloadMode offload = OffloadMode.NONE;
    private volatile boolean multiQueue;
    private volatile boolean persist;
    private volatile int owner = -1;
    private volatile int group = -1;

    TunTapChannelConfig(AbstractTunTapChannel channel) {
        super(channel);
        this.tunTap = channel;
        setWriteBufferWaterMark(new WriteBufferWaterMark(DEFAULT_LOW_WATER_MARK, DEFAULT_HIGH_WATER_MARK));
        setMaxMessagesPerWrite(DEFAULT_MAX_MESSAGES_PER_WRITE);
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions() {
        return getOptions(super.getOptions(), TunTapChannelOption.OFFLOAD, TunTapChannelOption.MULTI_QUEUE,
                TunTapChannelOption.PERSIST, TunTapChannelOption.OWNER, TunTapChannelOption.GROUP);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(ChannelOption<T> option) {
        if (option == TunTapChannelOption.OFFLOAD) {
            return (T) offload;
        }
        if (option == TunTapChannelOption.MULTI_QUEUE) {
            return (T) Boolean.valueOf(multiQueue);
        }
        if (option == TunTapChannelOption.PERSIST) {
            return (T) Boolean.valueOf(persist);
        }
        if (option == TunTapChannelOption.OWNER) {
            return (T) Integer.valueOf(owner);
        }
        if (option == TunTapChannelOption.GROUP) {
            return (T) Integer.valueOf(group);
        }
        return super.getOption(option);
    }

    @Override
    public <T> boolean setOption(ChannelOption<T> option, T value) {
        validate(option, value);
        if (option == TunTapChannelOption.OFFLOAD) {
            setOffload((OffloadMode) value);
        } else if (option == TunTapChannelOption.MULTI_QUEUE) {
            setMultiQueue((Boolean) value);
        } else if (option == TunTapChannelOption.PERSIST) {
            setPersist((Boolean) value);
        } else if (option == TunTapChannelOption.OWNER) {
            setOwner((Integer) value);
        } else if (option == TunTapChannelOption.GROUP) {
            setGroup((Integer) value);
        } else {
            return super.setOption(option, value);
        }
        return true;
    }

    public OffloadMode getOffload() {
        return offload;
    }

    /** See {@link TunTapChannelOption#OFFLOAD}; only before bind. */
    public TunTapChannelConfig setOffload(OffloadMode offload) {
        requireUnbound("OFFLOAD");
        this.offload = Objects.requireNonNull(offload, "offload");
        return this;
    }

    public boolean isMultiQueue() {
        return multiQueue;
    }

    /** See {@link TunTapChannelOption#MULTI_QUEUE}; only before bind. */
    public TunTapChannelConfig setMultiQueue(boolean multiQueue) {
        requireUnbound("MULTI_QUEUE");
        this.multiQueue = multiQueue;
        return this;
    }

    public boolean isPersist() {
        return persist;
    }

    /**
     * See {@link TunTapChannelOption#PERSIST}; on a bound channel it takes effect at once, through an ioctl on the
     * calling thread that waits for the kernel's rtnetlink lock (so not on an event loop, as {@code link()}).
     */
    public TunTapChannelConfig setPersist(boolean persist) {
        this.persist = persist;
        tunTap.persistChanged(persist);
        return this;
    }

    public int getOwner() {
        return owner;
    }

    /** See {@link TunTapChannelOption#OWNER}; only before bind. */
    public TunTapChannelConfig setOwner(int uid) {
        requireUnbound("OWNER");
        this.owner = uid;
        return this;
    }

    public int getGroup() {
        return group;
    }

    /** See {@link TunTapChannelOption#GROUP}; only before bind. */
    public TunTapChannelConfig setGroup(int gid) {
        requireUnbound("GROUP");
        this.group = gid;
        return this;
    }

    private void requireUnbound(String option) {
        if (tunTap.isBound()) {
            throw new IllegalStateException(option + " cannot change once the channel is bound");
        }
    }
}
