package dev.pktkit.openvpn.crypto;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * {@code tls-auth}: an HMAC over every control packet. On the wire:
 *
 * <pre>
 * opcode|key-id (1)  session-id (8)  HMAC (digest length)  packet-id (4)  net-time (4)  ack array ...
 * </pre>
 *
 * <p>The HMAC covers packet-id, net-time, opcode, session-id and the rest, in that order. {@link #unwrap}
 * verifies it and rewrites the packet in place into the plain form that {@code wire.ControlPacket} reads; the
 * packet-id must then be checked against the session's {@link ReplayWindow}. Not thread-safe (one {@code Mac}
 * per direction): use one instance per event loop.
 */
public final class TlsAuth implements ControlWrap {
    private final Mac send;
    private final Mac receive;
    private final int hmacLength;
    private final byte[] tag;
    private final byte[] expected;
    private long lastPacketId;
    private long lastNetTime;

    /**
     * @param digest the {@code auth} digest, e.g. "SHA1" (OpenVPN's default), "SHA256", "SHA512"
     */
    public TlsAuth(StaticKey key, KeyDirection direction, String digest) {
        String alg = "Hmac" + digest.toUpperCase().replace("-", "");
        try {
            send = Mac.getInstance(alg);
            receive = Mac.getInstance(alg);
            hmacLength = send.getMacLength();
            send.init(new SecretKeySpec(key.hmacKey(direction.sendSlot, hmacLength), alg));
            receive.init(new SecretKeySpec(key.hmacKey(direction.receiveSlot, hmacLength), alg));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("tls-auth digest " + digest + " unavailable: " + e, e);
        }
        tag = new byte[hmacLength];
        expected = new byte[hmacLength];
    }

    /** Bytes tls-auth adds to a control packet. */
    @Override
    public int overhead() {
        return hmacLength + 8;
    }

    /**
     * Verifies the packet of {@code len} bytes at {@code off} and moves opcode and session ID forward so that the
     * plain packet starts at the returned offset and ends where the input ended.
     *
     * @return the plain packet's offset, or -1 if it is too short or its HMAC is wrong (the buffer is then unchanged)
     */
    @Override
    public int unwrap(ByteBuf buf, int off, int len) {
        int h = hmacLength;
        if (len < 9 + h + 8 + 1) {
            return -1;
        }
        int pidOff = off + 9 + h;
        receive.update(buf.nioBuffer(pidOff, 8));
        receive.update(buf.nioBuffer(off, 9));
        receive.update(buf.nioBuffer(pidOff + 8, off + len - pidOff - 8));
        try {
            receive.doFinal(expected, 0);
        } catch (GeneralSecurityException e) {
            return -1;
        }
        buf.getBytes(off + 9, tag);
        if (!MessageDigest.isEqual(tag, expected)) {
            return -1;
        }
        lastPacketId = buf.getUnsignedInt(pidOff);
        lastNetTime = buf.getUnsignedInt(pidOff + 4);
        // Move opcode + session ID (9 bytes) to just before the ack array.
        long sid = buf.getLong(off + 1);
        byte op = buf.getByte(off);
        int plain = pidOff + 8 - 9;
        buf.setByte(plain, op);
        buf.setLong(plain + 1, sid);
        return plain;
    }

    /** The packet-id of the last packet {@link #unwrap} accepted. */
    @Override
    public long lastPacketId() {
        return lastPacketId;
    }

    /** The net-time (seconds) of the last packet {@link #unwrap} accepted. */
    public long lastNetTime() {
        return lastNetTime;
    }

    /**
     * Builds the protected form of the plain control packet {@code plain} (readable bytes; not released).
     *
     * @return a new buffer the caller owns
     */
    @Override
    public ByteBuf wrap(ByteBufAllocator alloc, ByteBuf plain, long packetId, long netTime) {
        int r = plain.readerIndex();
        int len = plain.readableBytes();
        ByteBuf out = alloc.buffer(len + overhead());
        out.writeBytes(plain, r, 9);
        int macOff = out.writerIndex();
        out.writerIndex(macOff + hmacLength);
        out.writeInt((int) packetId);
        out.writeInt((int) netTime);
        out.writeBytes(plain, r + 9, len - 9);
        send.update(out.nioBuffer(macOff + hmacLength, 8));
        send.update(out.nioBuffer(0, 9));
        send.update(out.nioBuffer(macOff + hmacLength + 8, len - 9));
        try {
            send.doFinal(tag, 0);
        } catch (GeneralSecurityException e) {
            out.release();
            throw new IllegalStateException(e);
        }
        out.setBytes(macOff, tag);
        return out;
    }
}
