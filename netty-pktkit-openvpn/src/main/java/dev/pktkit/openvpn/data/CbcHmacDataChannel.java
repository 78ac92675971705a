package dev.pktkit.openvpn.data;

import dev.pktkit.openvpn.crypto.ReplayWindow;
import dev.pktkit.openvpn.wire.Opcode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Locale;

/**
 * One key's CBC + HMAC data channel (AES-256-CBC with the {@code auth} digest, for clients without AEAD) as
 * OpenVPN frames it in TLS mode:
 *
 * <pre>
 * P_DATA_V2: opcode|key-id (1)  peer-id (3)  HMAC (digest length)  IV (16)  AES-CBC(packet-id (4) || payload, PKCS#7)
 * P_DATA_V1: opcode|key-id (1)               HMAC                  IV       ...
 * </pre>
 *
 * <p>The HMAC covers IV and ciphertext (encrypt-then-MAC; the opcode header is not covered, as in OpenVPN). The
 * IV is random per packet. Packet IDs count from 1 and pass a {@link ReplayWindow} after the HMAC verified and the
 * packet decrypted. Buffers: heap output from the allocator; per packet the JDK allocates an
 * {@code IvParameterSpec}. One loop; not thread-safe.
 */
public final class CbcHmacDataChannel implements DataChannel {
    public static final int IV = 16;
    public static final int PACKET_ID = 4;

    private final DataCipher cipher;
    private final Cipher encrypt;
    private final Cipher decrypt;
    private final SecretKeySpec encryptKey;
    private final SecretKeySpec decryptKey;
    private final Mac sendMac;
    private final Mac receiveMac;
    private final int hmacLength;
    private final byte[] iv = new byte[IV];
    private final byte[] tag;
    private final byte[] expected;
    private final ReplayWindow replay;
    private final SecureRandom random = new SecureRandom();
    private byte[] scratch = new byte[2048];
    private long sendPacketId;
    private int rejection;

    /**
     * @param digest the {@code auth} digest: "SHA1", "SHA256" or "SHA512"
     * @param encryptHmacKey at least the digest's length (only that many bytes are used)
     */
    public CbcHmacDataChannel(DataCipher cipher, String digest, byte[] encryptKey, byte[] encryptHmacKey,
                              byte[] decryptKey, byte[] decryptHmacKey, ReplayWindow replay) {
        if (cipher.isAead()) {
            throw new IllegalArgumentException(cipher.openVpnName + " is an AEAD cipher");
        }
        this.cipher = cipher;
        this.replay = replay;
        String alg = "Hmac" + digest.toUpperCase(Locale.ROOT).replace("-", "");
        try {
            sendMac = Mac.getInstance(alg);
            receiveMac = Mac.getInstance(alg);
            hmacLength = sendMac.getMacLength();
            sendMac.init(new SecretKeySpec(encryptHmacKey, 0, hmacLength, alg));
            receiveMac.init(new SecretKeySpec(decryptHmacKey, 0, hmacLength, alg));
            encrypt = Cipher.getInstance(cipher.transformation);
            decrypt = Cipher.getInstance(cipher.transformation);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(cipher.openVpnName + " with " + digest + " unavailable: " + e, e);
        }
        this.encryptKey = new SecretKeySpec(encryptKey, 0, cipher.keyLength, cipher.keyAlgorithm);
        this.decryptKey = new SecretKeySpec(decryptKey, 0, cipher.keyLength, cipher.keyAlgorithm);
        tag = new byte[hmacLength];
        expected = new byte[hmacLength];
    }

    @Override
    public DataCipher cipher() {
        return cipher;
    }

    public int hmacLength() {
        return hmacLength;
    }

    @Override
    public ByteBuf seal(ByteBufAllocator alloc, ByteBuf plain, int keyId, int peerId) {
        if (sendPacketId >= AeadDataChannel.MAX_PACKET_ID) {
            return null;
        }
        long pid = ++sendPacketId;
        int len = plain.readableBytes();
        int head = peerId >= 0 ? 4 : 1;
        int ptLen = PACKET_ID + len;
        int ctLen = (ptLen / 16 + 1) * 16;
        byte[] in = scratch(ptLen);
        in[0] = (byte) (pid >>> 24);
        in[1] = (byte) (pid >>> 16);
        in[2] = (byte) (pid >>> 8);
        in[3] = (byte) pid;
        plain.getBytes(plain.readerIndex(), in, PACKET_ID, len);
        ByteBuf out = alloc.heapBuffer(head + hmacLength + IV + ctLen);
        if (peerId >= 0) {
            out.writeByte(Opcode.firstByte(Opcode.DATA_V2, keyId)).writeMedium(peerId);
        } else {
            out.writeByte(Opcode.firstByte(Opcode.DATA_V1, keyId));
        }
        random.nextBytes(iv);
        byte[] o = out.array();
        int base = out.arrayOffset();
        int ivOff = base + head + hmacLength;
        System.arraycopy(iv, 0, o, ivOff, IV);
        try {
            encrypt.init(Cipher.ENCRYPT_MODE, encryptKey, new IvParameterSpec(iv));
            int n = encrypt.doFinal(in, 0, ptLen, o, ivOff + IV);
            sendMac.update(o, ivOff, IV + n);
            sendMac.doFinal(o, base + head);
            out.writerIndex(head + hmacLength + IV + n);
            return out;
        } catch (GeneralSecurityException e) {
            out.release();
            throw new IllegalStateException("seal failed: " + e, e);
        }
    }

    @Override
    public ByteBuf open(ByteBufAllocator alloc, ByteBuf pkt, int off, int len) {
        int op = Opcode.of(pkt.getByte(off));
        int head = op == Opcode.DATA_V2 ? 4 : 1;
        int ctLen = len - head - hmacLength - IV;
        if (ctLen < 16 || ctLen % 16 != 0) {
            rejection = TOO_SHORT;
            return null;
        }
        byte[] s = scratch(IV + ctLen);
        pkt.getBytes(off + head, tag);
        pkt.getBytes(off + head + hmacLength, s, 0, IV + ctLen);
        receiveMac.update(s, 0, IV + ctLen);
        try {
            receiveMac.doFinal(expected, 0);
        } catch (GeneralSecurityException e) {
            rejection = BAD_TAG;
            return null;
        }
        if (!MessageDigest.isEqual(tag, expected)) {
            rejection = BAD_TAG;
            return null;
        }
        int n;
        try {
            decrypt.init(Cipher.DECRYPT_MODE, decryptKey, new IvParameterSpec(s, 0, IV));
            n = decrypt.doFinal(s, IV, ctLen, s, IV);
        } catch (GeneralSecurityException e) {
            rejection = BAD_TAG; // bad padding after a good HMAC: the peer's fault, dropped the same way
            return null;
        }
        if (n < PACKET_ID) {
            rejection = TOO_SHORT;
            return null;
        }
        long pid = (s[IV] & 0xffL) << 24 | (s[IV + 1] & 0xff) << 16 | (s[IV + 2] & 0xff) << 8 | (s[IV + 3] & 0xff);
        if (!replay.update(pid)) {
            rejection = REPLAYED;
            return null;
        }
        ByteBuf out = alloc.heapBuffer(Math.max(n - PACKET_ID, 1));
        out.writeBytes(s, IV + PACKET_ID, n - PACKET_ID);
        return out;
    }

    @Override
    public int overhead() {
        return 4 + hmacLength + 16 + 4 + 16; // header, HMAC, IV, packet-id, padding up to a block
    }

    @Override
    public int lastRejection() {
        return rejection;
    }

    private byte[] scratch(int n) {
        if (scratch.length < n + 16) {
            scratch = new byte[Math.max(n + 16, scratch.length * 2)];
        }
        return scratch;
    }

    @Override
    public void destroy() {
        Arrays.fill(scratch, (byte) 0);
    }
}
