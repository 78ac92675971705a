package dev.pktkit.openvpn.data;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** One key's data channel in one session: {@link AeadDataChannel} or {@link CbcHmacDataChannel}. One loop. */
public interface DataChannel {
    /** Why {@link #open} returned null. */
    int TOO_SHORT = 1;
    int BAD_TAG = 2;
    int REPLAYED = 3;

    DataCipher cipher();

    /**
     * Encrypts {@code plain}'s readable bytes into a new packet; does not take or release {@code plain}.
     *
     * @param peerId the 24-bit peer-id for P_DATA_V2, or -1 for P_DATA_V1
     * @return the packet (caller owns it), or null when the packet-ID space is used up
     */
    ByteBuf seal(ByteBufAllocator alloc, ByteBuf plain, int keyId, int peerId);

    /**
     * Verifies and decrypts the data packet of {@code len} bytes at {@code off} (header included); does not take
     * or release {@code pkt}.
     *
     * @return the plaintext (caller owns it), or null ({@link #lastRejection()} says why)
     */
    ByteBuf open(ByteBufAllocator alloc, ByteBuf pkt, int off, int len);

    int lastRejection();

    /**
     * The most bytes {@link #seal} adds to a plaintext with a P_DATA_V2 header (opcode and peer-id, packet-id,
     * tag or HMAC, IV, largest padding): what {@code mssfix} subtracts.
     */
    int overhead();

    void destroy();
}
