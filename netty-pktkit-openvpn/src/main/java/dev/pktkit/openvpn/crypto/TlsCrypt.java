package dev.pktkit.openvpn.crypto;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * {@code tls-crypt} (and the per-client key of {@code tls-crypt-v2}): every control packet is authenticated with
 * HMAC-SHA256 and encrypted with AES-256-CTR, the first 16 bytes of the tag being the IV (a synthetic IV). On the
 * wire:
 *
 * <pre>
 * opcode|key-id (1)  session-id (8)  packet-id (4)  net-time (4)  tag (32)  AES-256-CTR(ack array, message-id, payload)
 * </pre>
 *
 * <p>The tag is HMAC-SHA256 over the first 17 bytes and the plaintext. Keys come from a 256-byte
 * {@link StaticKey}: a server sends with slot 0 and receives with slot 1 (key-direction is fixed by the role, as
 * OpenVPN does). Not thread-safe.
 */
public final class TlsCrypt implements ControlWrap {
    /** Tag length (HMAC-SHA256). */
    public static final int TAG = 32;
    /** Header before the tag: opcode, session ID, packet-id, net-time. */
    public static final int HEADER = 17;

    private final Mac sendMac;
    private final Mac receiveMac;
    private final Cipher sendCipher;
    private final Cipher receiveCipher;
    private final SecretKeySpec sendKey;
    private final SecretKeySpec receiveKey;
    private final byte[] tag = new byte[TAG];
    private final byte[] expected = new byte[TAG];
    private byte[] scratch = new byte[2048];
    private long lastPacketId;

    /**
     * @param server true for the server's side (send with slot 0), false for a client's (send with slot 1)
     */
    public TlsCrypt(StaticKey key, boolean server) {
        KeyDirection d = server ? KeyDirection.NORMAL : KeyDirection.INVERSE;
        try {
            sendMac = Mac.getInstance("HmacSHA256");
            receiveMac = Mac.getInstance("HmacSHA256");
            sendMac.init(new SecretKeySpec(key.hmacKey(d.sendSlot, 32), "HmacSHA256"));
            receiveMac.init(new SecretKeySpec(key.hmacKey(d.receiveSlot, 32), "HmacSHA256"));
            sendCipher = Cipher.getInstance("AES/CTR/NoPadding");
            receiveCipher = Cipher.getInstance("AES/CTR/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("tls-crypt needs AES-256-CTR and HMAC-SHA256: " + e, e);
        }
        sendKey = new SecretKeySpec(key.cipherKey(d.sendSlot, 32), "AES");
        receiveKey = new SecretKeySpec(key.cipherKey(d.receiveSlot, 32), "AES");
    }

    @Override
    public int overhead() {
        return 8 + TAG;
    }

    @Override
    public int unwrap(ByteBuf buf, int off, int len) {
        int ctLen = len - HEADER - TAG;
        if (ctLen < 0) {
            return -1;
        }
        if (scratch.length < ctLen) {
            scratch = new byte[Math.max(ctLen, scratch.length * 2)];
        }
        buf.getBytes(off + HEADER, tag);
        buf.getBytes(off + HEADER + TAG, scratch, 0, ctLen);
        try {
            receiveCipher.init(Cipher.DECRYPT_MODE, receiveKey, new IvParameterSpec(tag, 0, 16));
            int n = receiveCipher.doFinal(scratch, 0, ctLen, scratch, 0);
            if (n != ctLen) {
                return -1;
            }
            receiveMac.update(buf.nioBuffer(off, HEADER));
            receiveMac.update(scratch, 0, ctLen);
            receiveMac.doFinal(expected, 0);
        } catch (GeneralSecurityException e) {
            return -1;
        }
        if (!MessageDigest.isEqual(tag, expected)) {
            return -1;
        }
        lastPacketId = buf.getUnsignedInt(off + 9);
        // plain form: opcode + session ID right before the decrypted bytes
        int plain = off + HEADER + TAG - 9;
        byte op = buf.getByte(off);
        long sid = buf.getLong(off + 1);
        buf.setByte(plain, op);
        buf.setLong(plain + 1, sid);
        buf.setBytes(plain + 9, scratch, 0, ctLen);
        return plain;
    }

    @Override
    public long lastPacketId() {
        return lastPacketId;
    }

    @Override
    public ByteBuf wrap(ByteBufAllocator alloc, ByteBuf plain, long packetId, long netTime) {
        int r = plain.readerIndex();
        int len = plain.readableBytes();
        int ptLen = len - 9;
        ByteBuf out = alloc.buffer(len + overhead());
        out.writeBytes(plain, r, 9);
        out.writeInt((int) packetId);
        out.writeInt((int) netTime);
        if (scratch.length < ptLen) {
            scratch = new byte[Math.max(ptLen, scratch.length * 2)];
        }
        plain.getBytes(r + 9, scratch, 0, ptLen);
        try {
            sendMac.update(out.nioBuffer(0, HEADER));
            sendMac.update(scratch, 0, ptLen);
            sendMac.doFinal(tag, 0);
            sendCipher.init(Cipher.ENCRYPT_MODE, sendKey, new IvParameterSpec(tag, 0, 16));
            sendCipher.doFinal(scratch, 0, ptLen, scratch, 0);
        } catch (GeneralSecurityException e) {
            out.release();
            throw new IllegalStateException(e);
        }
        out.writeBytes(tag);
        out.writeBytes(scratch, 0, ptLen);
        return out;
    }
}
