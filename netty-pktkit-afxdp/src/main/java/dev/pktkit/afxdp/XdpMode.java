package dev.pktkit.afxdp;

import dev.pktkit.linux.Bpf;

/** Where the kernel runs the XDP program that redirects frames to the sockets. */
public enum XdpMode {
    /** In the driver, before an skb exists ({@code XDP_FLAGS_DRV_MODE}); veth, and most physical NICs' drivers. */
    NATIVE(Bpf.XDP_FLAGS_DRV_MODE),
    /** After the kernel built an skb ({@code XDP_FLAGS_SKB_MODE}): any device, slower. */
    GENERIC(Bpf.XDP_FLAGS_SKB_MODE);

    private final int flags;

    XdpMode(int flags) {
        this.flags = flags;
    }

    /** The {@code XDP_FLAGS_*} bit for {@code BPF_LINK_CREATE}. */
    public int flags() {
        return flags;
    }
}
