package dev.pktkit.tuntap;

import io.netty.channel.ChannelOption;

/**
 * Options of TUN/TAP channels, next to Netty's own ({@code ALLOCATOR}, {@code AUTO_READ},
 * {@code MAX_MESSAGES_PER_READ}, {@code MAX_MESSAGES_PER_WRITE}, {@code WRITE_BUFFER_WATER_MARK}). Set them on the
 * bootstrap before {@code bind}; {@link #OFFLOAD} and {@link #MULTI_QUEUE} cannot change afterwards.
 *
 * @param <T> the option's value type
 */
public final class TunTapChannelOption<T> extends ChannelOption<T> {
    /** Offloads (virtio-net header, TSO, checksum offload) and how large segments reach the pipeline; default
     *  {@link OffloadMode#NONE}. */
    public static final ChannelOption<OffloadMode> OFFLOAD = valueOf(TunTapChannelOption.class, "OFFLOAD");

    /**
     * Open one queue of a multi-queue device ({@code IFF_MULTI_QUEUE}); default false. Bind several channels to
     * the same name, each one queue (see {@link MultiQueue}); every channel of a device needs the option.
     */
    public static final ChannelOption<Boolean> MULTI_QUEUE = valueOf(TunTapChannelOption.class, "MULTI_QUEUE");

    /** Keep the device when the last channel closes ({@code TUNSETPERSIST}); default false. */
    public static final ChannelOption<Boolean> PERSIST = valueOf(TunTapChannelOption.class, "PERSIST");

    /** User id allowed to attach to the (persistent) device without CAP_NET_ADMIN ({@code TUNSETOWNER});
     *  default -1: none. */
    public static final ChannelOption<Integer> OWNER = valueOf(TunTapChannelOption.class, "OWNER");

    /** Group id allowed to attach to the (persistent) device ({@code TUNSETGROUP}); default -1: none. */
    public static final ChannelOption<Integer> GROUP = valueOf(TunTapChannelOption.class, "GROUP");

    @SuppressWarnings({"deprecation", "unused"})
    private TunTapChannelOption() {
        super(null);
    }
}
