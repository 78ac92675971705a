package dev.pktkit.openvpn.crypto;

/** Which static key slot each direction uses ({@code key-direction} / the tls-auth file's second argument). */
public enum KeyDirection {
    /** No direction: both ways use slot 0 (tls-auth without a direction argument). */
    BIDIRECTIONAL(0, 0),
    /** {@code key-direction 0}, a server's usual choice: send with slot 0, receive with slot 1. */
    NORMAL(0, 1),
    /** {@code key-direction 1}, a client's usual choice: send with slot 1, receive with slot 0. */
    INVERSE(1, 0);

    final int sendSlot;
    final int receiveSlot;

    KeyDirection(int sendSlot, int receiveSlot) {
        this.sendSlot = sendSlot;
        this.receiveSlot = receiveSlot;
    }
}
