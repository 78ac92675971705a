package dev.pktkit.openvpn.data;

import dev.pktkit.openvpn.crypto.ReplayWindow;
import dev.pktkit.openvpn.wire.Opcode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.spec.AlgorithmParameterSpec;
import java.util.Arrays;

/**
 * One key's AEAD data channel (AES-GCM or ChaCha20-Poly1305) as OpenVPN 2.4+ frames it:
 *
 * <pre>
 * P_DATA_V2: opcode|key-id (1)  peer-id (3)  packet-id (4)  tag (16)  ciphertext
 * P_DATA_V1: opcode|key-id (1)               packet-id (4)  tag (16)  ciphertext
 * </pre>
 *
 * <p>The nonce is the 4-byte packet-id followed by the 8-byte implicit IV (the first bytes of the direction's
 * HMAC key slot); the associated data is the 4-byte V2 header plus the packet-id (V2) or the packet-id alone
 * (V1). Packet IDs count from 1; a received ID goes through a {@link ReplayWindow} after the tag verified.
 *
 * <p>Buffers: the JDK providers work fastest on {@code byte[]} (see the module README), so ciphertext and
 * plaintext are built in heap buffers from the given allocator; a direct input is first copied into a reused
 * scratch array. The JDK allocates a parameter spec per packet (its {@code Cipher.init} API takes no reusable
 * nonce) and, inside the provider, what its GCM/ChaCha implementations need; nothing else here does.
 *
 * <p>One instance per session, used from one event loop; not thread-safe.
 */
public final class AeadDataChannel implements DataChannel {
    public static final int TAG = 16;
    public static final int PACKET_ID = 4;
    /** Largest packet ID; a key must be renegotiated before the sender reaches it. */
    public static final long MAX_PACKET_ID = 0xffffffffL;

    private final DataCipher cipher;
    private final Cipher encrypt;
    private final Cipher decrypt;
    private final SecretKeySpec encryptKey;
    private final SecretKeySpec decryptKey;
    private final byte[] encryptNonce = new byte[12];
    private final byte[] decryptNonce = new byte[12];
    private final byte[] ad = new byte[8];
    private final ReplayWindow replay;
    private byte[] scratch = new byte[2048];
    private long sendPacketId;
    private long lastReceivedId;

    /**
     * @param encryptKey at least {@code cipher.keyLength} bytes (only that many are used)
     * @param encryptImplicitIv at least 8 bytes (the HMAC slot of the sending direction)
     */
    public AeadDataChannel(DataCipher cipher, byte[] encryptKey, byte[] encryptImplicitIv, byte[] decryptKey,
                           byte[] decryptImplicitIv, ReplayWindow replay) {
        this.cipher = cipher;
        this.replay = replay;
        this.encryptKey = new SecretKeySpec(encryptKey, 0, cipher.keyLength, cipher.keyAlgorithm);
        this.decryptKey = new SecretKeySpec(decryptKey, 0, cipher.keyLength, cipher.keyAlgorithm);
        System.arraycopy(encryptImplicitIv, 0, encryptNonce, 4, 8);
        System.arraycopy(decryptImplicitIv, 0, decryptNonce, 4, 8);
        try {
            encrypt = Cipher.getInstance(cipher.transformation);
            decrypt = Cipher.getInstance(cipher.transformation);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(cipher.openVpnName + " is not available from the JDK: " + e, e);
        }
    }

    @Override
    public DataCipher cipher() {
        return cipher;
    }

    /** Bytes added to a plaintext packet: header, packet-id and tag. */
    public static int overhead(boolean v2) {
        return (v2 ? 4 : 1) + PACKET_ID + TAG;
    }

    /** The packet ID of the last packet sealed (0 before the first). */
    public long sentPacketId() {
        return sendPacketId;
    }

    /** The packet ID of the last packet {@link #open} accepted. */
    public long lastReceivedPacketId() {
        return lastReceivedId;
    }

    private AlgorithmParameterSpec spec(byte[] nonce) {
        return cipher == DataCipher.CHACHA20_POLY1305 ? new IvParameterSpec(nonce) : new GCMParameterSpec(128, nonce);
    }

    /**
     * Encrypts {@code plain}'s readable bytes into a new packet. Does not take or release {@code plain}.
     *
     * @param peerId the 24-bit peer-id for P_DATA_V2, or -1 for P_DATA_V1
     * @return the packet (caller owns it), or null when the packet-ID space is used up (the key must be renewed)
     */
    @Override
    public ByteBuf seal(ByteBufAllocator alloc, ByteBuf plain, int keyId, int peerId) {
        if (sendPacketId >= MAX_PACKET_ID) {
            return null;
        }
        long pid = ++sendPacketId;
        int len = plain.readableBytes();
        int head = peerId >= 0 ? 4 : 1;
        ByteBuf out = alloc.heapBuffer(head + PACKET_ID + TAG + len + TAG);
        if (peerId >= 0) {
            out.writeByte(Opcode.firstByte(Opcode.DATA_V2, keyId)).writeMedium(peerId);
        } else {
            out.writeByte(Opcode.firstByte(Opcode.DATA_V1, keyId));
        }
        out.writeInt((int) pid);
        byte[] o = out.array();
        int base = out.arrayOffset();
        putInt(encryptNonce, 0, (int) pid);
        try {
            encrypt.init(Cipher.ENCRYPT_MODE, encryptKey, spec(encryptNonce));
            encrypt.updateAAD(o, base + (peerId >= 0 ? 0 : 1), peerId >= 0 ? 8 : 4);
            byte[] in;
            int inOff;
            if (plain.hasArray()) {
                in = plain.array();
                inOff = plain.arrayOffset() + plain.readerIndex();
            } else {
                in = scratch(len);
                plain.getBytes(plain.readerIndex(), in, 0, len);
                inOff = 0;
            }
            int ct = base + head + PACKET_ID + TAG;
            int n = encrypt.doFinal(in, inOff, len, o, ct);
            // the JDK puts the tag after the ciphertext; OpenVPN wants it before
            System.arraycopy(o, ct + len, o, base + head + PACKET_ID, TAG);
            out.writerIndex(head + PACKET_ID + TAG + n - TAG);
            return out;
        } catch (GeneralSecurityException e) {
            out.release();
            throw new IllegalStateException("seal failed: " + e, e);
        }
    }

    /**
     * Verifies and decrypts the data packet of {@code len} bytes at {@code off} (header included). Does not take
     * or release {@code pkt}.
     *
     * @return the plaintext (caller owns it), or null when rejected ({@link #lastRejection()} says why)
     */
    @Override
    public ByteBuf open(ByteBufAllocator alloc, ByteBuf pkt, int off, int len) {
        int op = Opcode.of(pkt.getByte(off));
        int head = op == Opcode.DATA_V2 ? 4 : 1;
        int ctLen = len - head - PACKET_ID - TAG;
        if (ctLen < 0) {
            rejection = TOO_SHORT;
            return null;
        }
        long pid = pkt.getUnsignedInt(off + head);
        if (!replay.check(pid)) {
            rejection = REPLAYED;
            return null;
        }
        byte[] s = scratch(ctLen + TAG + 8);
        // associated data first, then ciphertext||tag in the order the JDK wants
        int adLen = head == 4 ? 8 : 4;
        pkt.getBytes(head == 4 ? off : off + 1, ad, 0, adLen);
        pkt.getBytes(off + head + PACKET_ID + TAG, s, 0, ctLen);
        pkt.getBytes(off + head + PACKET_ID, s, ctLen, TAG);
        putInt(decryptNonce, 0, (int) pid);
        ByteBuf out = alloc.heapBuffer(Math.max(ctLen, 1));
        try {
            decrypt.init(Cipher.DECRYPT_MODE, decryptKey, spec(decryptNonce));
            decrypt.updateAAD(ad, 0, adLen);
            int n = decrypt.doFinal(s, 0, ctLen + TAG, out.array(), out.arrayOffset());
            out.writerIndex(n);
        } catch (javax.crypto.AEADBadTagException e) {
            out.release();
            rejection = BAD_TAG;
            return null;
        } catch (GeneralSecurityException e) {
            out.release();
            rejection = BAD_TAG;
            return null;
        }
        if (!replay.update(pid)) {
            out.release();
            rejection = REPLAYED;
            return null;
        }
        lastReceivedId = pid;
        return out;
    }

    @Override
    public int overhead() {
        return 4 + PACKET_ID + TAG;
    }

    /** Why the last {@link #open} returned null: {@link #TOO_SHORT}, {@link #BAD_TAG} or {@link #REPLAYED}. */
    @Override
    public int lastRejection() {
        return rejection;
    }

    private int rejection;

    private byte[] scratch(int n) {
        if (scratch.length < n) {
            scratch = new byte[Math.max(n, scratch.length * 2)];
        }
        return scratch;
    }

    private static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    /** Wipes the key copies this instance holds (the JDK's {@code SecretKeySpec}s cannot be wiped). */
    @Override
    public void destroy() {
        Arrays.fill(scratch, (byte) 0);
        Arrays.fill(encryptNonce, (byte) 0);
        Arrays.fill(decryptNonce, (byte) 0);
    }
}
