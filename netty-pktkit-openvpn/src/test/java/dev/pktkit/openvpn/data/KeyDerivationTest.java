package dev.pktkit.openvpn.data;

import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The TLS 1.0 PRF against a published vector; the PRF expansion depends on every input. (Both derivations are
 * proven against the stock client by {@code StockClientTunnelTest}, which runs with tls-ekm on and off.)
 */
class KeyDerivationTest {
    @Test
    void tls1PrfMatchesTheKnownVector() {
        // The widely used TLS 1.0/1.1 PRF test vector: secret 48 × 0xab, label "PRF Testvector", seed 64 × 0xcd,
        // 104 bytes out.
        byte[] secret = new byte[48];
        java.util.Arrays.fill(secret, (byte) 0xab);
        byte[] seed = new byte[64];
        java.util.Arrays.fill(seed, (byte) 0xcd);
        byte[] out = KeyDerivation.tls1Prf(secret, "PRF Testvector", seed, 104);
        assertEquals("d3d4d1e349b5d515044666d51de32bab258cb521b6b053463e354832fd976754443bcf9a296519bc289abcbc1187e4ebd31e602353776c408aafb74cbc85eff69255f9788faa184cbb957a9819d84a5d7eb006eb459d3ae8de9810454b8b2d8f1afbc655a8c9a013",
                HexFormat.of().formatHex(out));
    }

    @Test
    void prfExpansionDependsOnEveryInput() {
        byte[] pre = new byte[48];
        byte[] r = new byte[32];
        byte[] base = KeyDerivation.prf(pre, r, r, r, r, 1, 2);
        assertEquals(KeyDerivation.KEY2_LENGTH, base.length);
        assertNotEquals(HexFormat.of().formatHex(base), HexFormat.of().formatHex(KeyDerivation.prf(pre, r, r, r, r, 1, 3)));
        assertNotEquals(HexFormat.of().formatHex(base), HexFormat.of().formatHex(KeyDerivation.prf(pre, r, r, r, r, 2, 2)));
        byte[] r2 = r.clone();
        r2[5] = 1;
        assertNotEquals(HexFormat.of().formatHex(base), HexFormat.of().formatHex(KeyDerivation.prf(pre, r2, r, r, r, 1, 2)));
        assertNotEquals(HexFormat.of().formatHex(base), HexFormat.of().formatHex(KeyDerivation.prf(pre, r, r, r, r2, 1, 2)));
    }
}
