package dev.pktkit.wireguard.crypto;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CryptoVectorsTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void blake2sRfc7693AppendixB() {
        assertEquals("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982",
                HEX.formatHex(Blake2s.hash("abc".getBytes(StandardCharsets.US_ASCII))));
    }

    @Test
    void blake2sEmptyAndSplitInputs() {
        // BLAKE2s-256 of the empty string (reference implementation's published value)
        assertEquals("69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9",
                HEX.formatHex(Blake2s.hash()));
        assertArrayEquals(Blake2s.hash("abc".getBytes()), Blake2s.hash("a".getBytes(), "bc".getBytes()));
    }

    @Test
    void hmacAndKeyedMacMatchPythonHashlib() {
        byte[] key = new byte[32];
        java.util.Arrays.fill(key, (byte) 'k');
        byte[] data = "data".getBytes(StandardCharsets.US_ASCII);
        // python3: hmac.new(b'k'*32, b'data', hashlib.blake2s); hashlib.blake2s(b'data', key=b'k'*32, digest_size=16)
        assertEquals("1b3b81abdc97a097da15fce4e261a1199ad81f9aa193a97a3eaeb4d770bbf6dd",
                HEX.formatHex(Blake2s.hmac(key, data)));
        assertEquals("4369f34699c43fd4a50d2f291971554a", HEX.formatHex(Blake2s.mac(key, data, 0, data.length)));
    }

    @Test
    void tai64nLabelsAndOrder() {
        assertEquals("400000000000000a00000000", HEX.formatHex(Tai64n.encode(0)));
        // 1700000000.5 s: seconds 0x6553f100 + base, nanoseconds 500000000 rounded down to a multiple of 2^24
        byte[] t = Tai64n.encode(1_700_000_000_500_000_000L);
        assertEquals("400000006553f10a", HEX.formatHex(t, 0, 8));
        assertEquals(500_000_000 & ~((1 << 24) - 1), java.nio.ByteBuffer.wrap(t, 8, 4).getInt());
        byte[] later = Tai64n.encode(1_700_000_001_000_000_000L);
        assertTrue(Tai64n.after(later, t));
        assertFalse(Tai64n.after(t, later));
        assertFalse(Tai64n.after(t, t.clone()));
        // within one 2^24 ns step the timestamp does not move
        assertArrayEquals(Tai64n.encode(1_700_000_001_000_000_000L), Tai64n.encode(1_700_000_001_001_000_000L));
    }

    @Test
    void x25519Rfc7748Section6_1() {
        byte[] a = HEX.parseHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        byte[] b = HEX.parseHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        assertEquals("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
                HEX.formatHex(Curve25519.publicKey(a)));
        assertEquals("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
                HEX.formatHex(Curve25519.publicKey(b)));
        assertEquals("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
                HEX.formatHex(Curve25519.dh(a, Curve25519.publicKey(b))));
        assertNull(Curve25519.dh(a, new byte[32]), "all-zero shared secret refused");
    }

    @Test
    void transportCipherRoundTripAndTamper() {
        byte[] key = new byte[32];
        key[0] = 1;
        TransportCipher s = new TransportCipher(key, true);
        TransportCipher o = new TransportCipher(key, false);
        byte[] buf = new byte[64 + 16];
        for (int i = 0; i < 64; i++) {
            buf[i] = (byte) i;
        }
        for (long ctr = 0; ctr < 3; ctr++) {
            byte[] b = buf.clone();
            s.seal(ctr, b, 0, 64);
            byte[] copy = b.clone();
            assertEquals(64, o.open(ctr, b, 0, 80));
            assertArrayEquals(java.util.Arrays.copyOf(buf, 64), java.util.Arrays.copyOf(b, 64));
            copy[5] ^= 1;
            assertEquals(-1, o.open(ctr, copy, 0, 80), "flipped bit refused");
            copy[5] ^= 1;
            assertEquals(-1, o.open(ctr + 1, copy, 0, 80), "wrong counter refused");
        }
        s.destroy();
        o.destroy();
        assertEquals(-1, o.open(0, buf, 0, 80));
    }
}
