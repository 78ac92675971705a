package dev.pktkit.afxdp;

/** How a socket's frames move between the UMEM and the device. */
public enum XdpBindMode {
    /** The kernel copies frames ({@code XDP_COPY}): works on every device (veth offers only this). */
    COPY,
    /**
     * The device DMAs into the UMEM ({@code XDP_ZEROCOPY}); the open fails with
     * {@link XdpException.Reason#ZERO_COPY_REFUSED} where the driver cannot.
     */
    ZERO_COPY,
    /** Zero-copy where the driver offers it, else copy (the kernel's choice when neither flag is given). */
    AUTO
}
