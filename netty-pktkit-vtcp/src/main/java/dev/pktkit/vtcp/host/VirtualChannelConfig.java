package dev.pktkit.vtcp.host;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.RecvByteBufAllocator;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The option plumbing shared by the three virtual channel configurations ({@link VirtualSocketChannelConfig},
 * {@link VirtualServerSocketChannelConfig}, {@link VirtualDatagramChannelConfig}), so it exists once: each
 * configuration declares its {@code ChannelOption}s in one static {@link OptionTable} (getter and setter per
 * option), and {@link #getOptions()}, {@link #getOption} and {@link #setOption} read that table, falling back to
 * Netty's {@link DefaultChannelConfig} for the options every channel has ({@code AUTO_READ},
 * {@code WRITE_BUFFER_WATER_MARK}, {@code CONNECT_TIMEOUT_MILLIS}, ...). The properties more than one channel kind
 * has live here too: {@code SO_RCVBUF} (with the kind's default and minimum), {@code SO_SNDBUF}, {@code IP_TOS},
 * {@code SO_REUSEADDR} and {@link VirtualChannelOption#TRANSPARENT}.
 *
 * <p>The subclasses still override Netty's setters ({@code setAutoRead}, ...) one by one: Netty's
 * {@code SocketChannelConfig}, {@code ServerSocketChannelConfig} and {@code DatagramChannelConfig} each declare
 * them with their own return type, which only a method in the final class can satisfy.
 */
abstract class VirtualChannelConfig extends DefaultChannelConfig {
    /**
     * The options of one configuration class, in the order {@link #getOptions()} reports them; built once per
     * class, never per channel.
     */
    static final class OptionTable<C extends VirtualChannelConfig> {
        private final Map<ChannelOption<?>, Function<C, ?>> getters = new IdentityHashMap<>();
        private final Map<ChannelOption<?>, BiConsumer<C, Object>> setters = new IdentityHashMap<>();
        private final Map<ChannelOption<?>, Boolean> order = new LinkedHashMap<>();

        @SuppressWarnings("unchecked")
        <T> OptionTable<C> add(ChannelOption<T> option, Function<C, T> get, BiConsumer<C, T> set) {
            getters.put(option, get);
            setters.put(option, (BiConsumer<C, Object>) set);
            order.put(option, Boolean.TRUE);
            return this;
        }

        Iterable<ChannelOption<?>> options() {
            return Collections.unmodifiableSet(order.keySet());
        }
    }

    private final OptionTable<?> table;
    private final int minReceiveBuffer;
    private volatile int receiveBufferSize;
    private volatile int sendBufferSize;
    private volatile int trafficClass;
    private volatile boolean reuseAddress;
    private volatile boolean transparent;

    VirtualChannelConfig(Channel channel, RecvByteBufAllocator allocator, OptionTable<?> table,
                         int receiveBuffer, int minReceiveBuffer, int sendBuffer) {
        super(channel, allocator);
        this.table = table;
        this.minReceiveBuffer = minReceiveBuffer;
        this.receiveBufferSize = receiveBuffer;
        this.sendBufferSize = sendBuffer;
    }

    VirtualChannelConfig(Channel channel, OptionTable<?> table, int receiveBuffer, int minReceiveBuffer,
                         int sendBuffer) {
        super(channel);
        this.table = table;
        this.minReceiveBuffer = minReceiveBuffer;
        this.receiveBufferSize = receiveBuffer;
        this.sendBufferSize = sendBuffer;
    }

    @Override
    public final Map<ChannelOption<?>, Object> getOptions() {
        Map<ChannelOption<?>, Object> result = super.getOptions();
        for (ChannelOption<?> o : table.options()) {
            result.put(o, getOption(o));
        }
        return result;
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public final <T> T getOption(ChannelOption<T> option) {
        Function get = table.getters.get(option);
        return get != null ? (T) get.apply(this) : super.getOption(option);
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public final <T> boolean setOption(ChannelOption<T> option, T value) {
        BiConsumer set = table.setters.get(option);
        if (set == null) {
            return super.setOption(option, value);
        }
        validate(option, value);
        set.accept(this, value);
        return true;
    }

    // ---- shared properties; the subclasses' public accessors (with their interface's return type) call these;
    // only the getters all three Netty interfaces declare are public here

    public int getReceiveBufferSize() {
        return receiveBufferSize;
    }

    final void receiveBufferSize(int bytes) {
        if (bytes < minReceiveBuffer) {
            throw new IllegalArgumentException("receiveBufferSize " + bytes + " (at least " + minReceiveBuffer + ")");
        }
        this.receiveBufferSize = bytes;
    }

    final int sendBufferSize() {
        return sendBufferSize;
    }

    final void sendBufferSize(int bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("sendBufferSize " + bytes + " (must be positive)");
        }
        this.sendBufferSize = bytes;
    }

    final int trafficClass() {
        return trafficClass;
    }

    final void trafficClass(int tc) {
        if (tc < 0 || tc > 255) {
            throw new IllegalArgumentException("trafficClass " + tc + " (0..255)");
        }
        this.trafficClass = tc;
    }

    public boolean isReuseAddress() {
        return reuseAddress;
    }

    final void reuseAddress(boolean on) {
        this.reuseAddress = on;
    }

    final boolean transparent() {
        return transparent;
    }

    final void transparent(boolean on) {
        this.transparent = on;
    }
}
