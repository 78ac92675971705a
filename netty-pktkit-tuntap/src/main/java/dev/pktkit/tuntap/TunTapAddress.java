package dev.pktkit.tuntap;

import java.io.Serial;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The device a TUN/TAP channel binds to: an interface name and whether the device may, must, or must not exist
 * already. After binding, the channel's {@code localAddress()} is a {@code TunTapAddress} with the device's actual
 * name (the kernel fills in a {@code %d} pattern) and interface index.
 *
 * <pre>{@code
 * bootstrap.bind(TunTapAddress.of("pk0"));       // create pk0, or attach to an existing one
 * bootstrap.bind(TunTapAddress.create("pk0"));   // fail with NAME_IN_USE if pk0 exists
 * bootstrap.bind(TunTapAddress.attach("pk0"));   // fail with NO_SUCH_DEVICE unless pk0 exists (persistent)
 * bootstrap.bind(TunTapAddress.any());           // the kernel picks tunN / tapN
 * }</pre>
 */
public final class TunTapAddress extends SocketAddress {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Longest interface name in bytes ({@code IFNAMSIZ} minus the terminating zero). */
    public static final int MAX_NAME_LENGTH = 15;

    /** Whether binding may create the device, attach to an existing one, or both. */
    public enum OpenMode {
        /** Attach if a device of this name exists, else create it (the kernel's default). */
        CREATE_OR_ATTACH,
        /** Create; fail if the name exists ({@code IFF_TUN_EXCL}). */
        CREATE,
        /** Attach to an existing (persistent) device; fail if there is none. */
        ATTACH
    }

    private final String name;
    private final OpenMode mode;
    private final int index;

    private TunTapAddress(String name, OpenMode mode, int index) {
        this.name = name;
        this.mode = mode;
        this.index = index;
    }

    /** Create {@code name}, or attach to it if it exists. */
    public static TunTapAddress of(String name) {
        return new TunTapAddress(checkName(name), OpenMode.CREATE_OR_ATTACH, 0);
    }

    /** Create {@code name}; binding fails if it exists. */
    public static TunTapAddress create(String name) {
        return new TunTapAddress(checkName(name), OpenMode.CREATE, 0);
    }

    /** Attach to the existing device {@code name}; binding fails if there is none. */
    public static TunTapAddress attach(String name) {
        return new TunTapAddress(checkName(name), OpenMode.ATTACH, 0);
    }

    /** A new device whose name the kernel picks ({@code tunN} or {@code tapN}). */
    public static TunTapAddress any() {
        return new TunTapAddress("", OpenMode.CREATE, 0);
    }

    /** The bound form: actual name and interface index. */
    static TunTapAddress bound(String name, OpenMode mode, int index) {
        return new TunTapAddress(name, mode, index);
    }

    /** The interface name; empty for {@link #any()} before binding. May hold a {@code %d} pattern. */
    public String name() {
        return name;
    }

    public OpenMode mode() {
        return mode;
    }

    /** The interface index in the device's namespace once bound; 0 before. */
    public int index() {
        return index;
    }

    private static String checkName(String name) {
        Objects.requireNonNull(name, "name");
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes > MAX_NAME_LENGTH || name.contains("/") || name.equals(".") || name.equals("..")
                || name.chars().anyMatch(c -> c <= ' ' || c == ':' || c == 0x7F)) {
            throw new IllegalArgumentException("not an interface name (1-" + MAX_NAME_LENGTH
                    + " bytes, no '/', ':' or white space): '" + name + "'");
        }
        return name;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TunTapAddress a && a.name.equals(name) && a.mode == mode && a.index == index;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, mode, index);
    }

    @Override
    public String toString() {
        return index > 0 ? name + "#" + index : name.isEmpty() ? "(any)" : name;
    }
}
