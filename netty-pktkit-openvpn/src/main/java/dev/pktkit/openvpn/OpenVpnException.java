package dev.pktkit.openvpn;

/** Why an {@link OpenVpnClient}'s tunnel did not come up or ended (refused, timed out, closed). */
public final class OpenVpnException extends java.io.IOException {
    private static final long serialVersionUID = 1L;

    public OpenVpnException(String message) {
        super(message);
    }
}
