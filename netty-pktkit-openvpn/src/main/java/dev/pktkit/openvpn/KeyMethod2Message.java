package dev.pktkit.openvpn;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The key method 2 message each side sends first inside TLS:
 *
 * <pre>
 * uint32 0   uint8 2 (key method)   [client only: pre-master 48]   random1 32   random2 32
 * options string   [username string   password string   peer-info string]
 * </pre>
 *
 * where a string is a 16-bit length (counting a terminating NUL) and its bytes. The client's peer-info lines
 * ({@code IV_VER=2.6.14}, {@code IV_PROTO=...}, {@code IV_CIPHERS=AES-256-GCM:...}) drive NCP; the randoms feed the
 * old PRF key derivation for peers without {@code tls-ekm}.
 *
 * @param preMaster empty for a server's message
 */
public record KeyMethod2Message(byte[] preMaster, byte[] random1, byte[] random2, String options, String username,
                                String password, String peerInfo) {
    public static final int PRE_MASTER = 48;
    public static final int RANDOM = 32;
    /** Longest string accepted (OpenVPN's TLS_OPTIONS_LEN-ish bound, generous for peer-info). */
    public static final int MAX_STRING = 16384;

    public KeyMethod2Message {
        preMaster = preMaster.clone();
        random1 = random1.clone();
        random2 = random2.clone();
    }

    /**
     * Parses a key method 2 message from {@code in}'s readable bytes (the reader index is not moved).
     *
     * @param fromClient whether the message carries the client's pre-master secret and the user/peer-info strings
     * @throws IllegalArgumentException when it is malformed
     */
    public static KeyMethod2Message parse(ByteBuf in, boolean fromClient) {
        return readFrom(in.duplicate(), fromClient);
    }

    /**
     * Reads a key method 2 message from {@code in} and moves its reader index past it, or returns null (index
     * unchanged) when the bytes so far are a truncated message.
     *
     * @throws IllegalArgumentException when it is malformed
     */
    public static KeyMethod2Message read(ByteBuf in, boolean fromClient) {
        ByteBuf b = in.duplicate();
        try {
            KeyMethod2Message m = readFrom(b, fromClient);
            in.readerIndex(b.readerIndex());
            return m;
        } catch (Truncated t) {
            return null;
        }
    }

    /** A message that is a prefix of a valid one. */
    private static final class Truncated extends IllegalArgumentException {
        Truncated() {
            super("key method 2 message truncated", null);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    /** Reads from {@code b}, moving its reader index; throws {@link Truncated} for a prefix. */
    private static KeyMethod2Message readFrom(ByteBuf b, boolean fromClient) {
        need(b, 5);
        if (b.readInt() != 0) {
            throw new IllegalArgumentException("key method 2 message must start with 4 zero bytes");
        }
        int method = b.readUnsignedByte();
        if (method != 2) {
            throw new IllegalArgumentException("key method " + method + " (only 2 is supported)");
        }
        byte[] pre = new byte[fromClient ? PRE_MASTER : 0];
        need(b, pre.length + 2 * RANDOM);
        b.readBytes(pre);
        byte[] r1 = new byte[RANDOM];
        byte[] r2 = new byte[RANDOM];
        b.readBytes(r1).readBytes(r2);
        String options = readString(b);
        String user = b.isReadable() ? readString(b) : "";
        String pass = b.isReadable() ? readString(b) : "";
        String info = b.isReadable() ? readString(b) : "";
        return new KeyMethod2Message(pre, r1, r2, options, user, pass, info);
    }

    private static void need(ByteBuf b, int n) {
        if (b.readableBytes() < n) {
            throw new Truncated();
        }
    }

    private static String readString(ByteBuf b) {
        need(b, 2);
        int len = b.readUnsignedShort();
        if (len > MAX_STRING) {
            throw new IllegalArgumentException("string of " + len + " bytes exceeds " + MAX_STRING);
        }
        need(b, len);
        if (len == 0) {
            return "";
        }
        String s = b.readCharSequence(len, StandardCharsets.UTF_8).toString();
        int nul = s.indexOf('\0');
        return nul >= 0 ? s.substring(0, nul) : s;
    }

    private static void writeString(ByteBuf out, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        out.writeShort(bytes.length + 1);
        out.writeBytes(bytes).writeByte(0);
    }

    /** Writes this message; a server's (empty pre-master) omits username, password and peer-info when empty. */
    public void emit(ByteBuf out) {
        out.writeInt(0).writeByte(2).writeBytes(preMaster).writeBytes(random1).writeBytes(random2);
        writeString(out, options);
        if (preMaster.length > 0 || !username.isEmpty() || !peerInfo.isEmpty()) {
            writeString(out, username);
            writeString(out, password);
            writeString(out, peerInfo);
        }
    }

    /** The peer-info lines as a map ({@code IV_VER} to {@code 2.6.14}, ...), in order. */
    public Map<String, String> peerInfoMap() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : peerInfo.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyMethod2Message k && Arrays.equals(k.preMaster, preMaster)
                && Arrays.equals(k.random1, random1) && Arrays.equals(k.random2, random2)
                && k.options.equals(options) && k.username.equals(username) && k.password.equals(password)
                && k.peerInfo.equals(peerInfo);
    }

    @Override
    public int hashCode() {
        return options.hashCode() * 31 + Arrays.hashCode(random1);
    }

    @Override
    public String toString() {
        return "KeyMethod2Message{options=" + options + ", username=" + username + ", peerInfo="
                + peerInfo.replace('\n', ' ') + "}";
    }
}
