package dev.pktkit.wireguard.noise;

import dev.pktkit.wireguard.crypto.Tai64n;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HandshakeTest {
    private static final HexFormat HEX = HexFormat.of();
    // Derived independently with Python's hashlib (BLAKE2s, HMAC) and pyca/cryptography (X25519, ChaCha20-Poly1305)
    // following the WireGuard paper §5.4; the script is in the module's src/test/resources/kat.py.
    private static final String INIT = "010000004433221164b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466"
            + "158a0e4ca242d151ca97ab90159a98b67e616625e68b4065d357376b6598e644ad7d678c0295d22de4cb43d5135581ed36346b"
            + "fa7cf42a122139f8939935ec574414e91f3b457e447709b4db0277480586ab0a99b2d78cf74bf0acad00000000000000000000"
            + "000000000000";
    private static final String RESP = "020000008877665544332211244fe3b963e899dd295baffce248d3530f3a9a7479ba063002680e"
            + "bfe7adad4915248b76bf40ae1cd2ad26a0f9f0feb980c60e337b22f66b168a2eeda99099180000000000000000000000000000"
            + "0000";
    private static final String DATA0 = "dfc3a11aed2a2d8c614cbace3a8153b752f948d80844add5008e5dc0b0851037";

    private static byte[] seq(int from) {
        byte[] b = new byte[32];
        for (int i = 0; i < 32; i++) {
            b[i] = (byte) (from + i);
        }
        return b;
    }

    @Test
    void initialChainKeyAndHash() {
        assertEquals("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36",
                HEX.formatHex(Handshake.INITIAL_CHAIN_KEY));
        assertEquals("2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3",
                HEX.formatHex(Handshake.INITIAL_HASH));
    }

    @Test
    void knownAnswerInitiationResponseAndFirstPacket() {
        StaticIdentity i = new StaticIdentity(seq(1));
        StaticIdentity r = new StaticIdentity(seq(33));
        byte[] psk = new byte[32];
        java.util.Arrays.fill(psk, (byte) 7);
        Handshake hi = new Handshake(i, r.publicKey(), psk);
        hi.ephemeralSource = () -> seq(65);
        byte[] init = hi.createInitiation(0x11223344, 1_700_000_000L * 1_000_000_000L);
        new CookieGenerator(r.publicKey(), Long.MAX_VALUE).addMacs(init, 0);
        assertEquals(INIT, HEX.formatHex(init));

        Handshake hr = new Handshake(r, i.publicKey(), psk);
        hr.ephemeralSource = () -> seq(97);
        Handshake.ConsumedInitiation ci = Handshake.decryptInitiation(r, init, k -> hr.staticStatic());
        assertNotNull(ci);
        assertArrayEquals(i.publicKey(), ci.remoteStatic());
        assertEquals(Handshake.Acceptance.ACCEPTED, hr.acceptInitiation(ci));
        byte[] resp = hr.createResponse(0x55667788);
        new CookieGenerator(i.publicKey(), Long.MAX_VALUE).addMacs(resp, 0);
        assertEquals(RESP, HEX.formatHex(resp));

        assertTrue(hi.consumeResponse(resp));
        Keypair ki = hi.deriveKeypair(0);
        Keypair kr = hr.deriveKeypair(0);
        byte[] pkt = new byte[32];
        ki.sendCipher().seal(ki.nextSendCounter(), pkt, 0, 16);
        assertEquals(DATA0, HEX.formatHex(pkt));
        assertEquals(16, kr.receiveCipher().open(0, pkt, 0, 32));
        assertEquals(0x55667788, ki.remoteIndex());
        assertEquals(0x11223344, kr.remoteIndex());
    }

    @Test
    void randomKeysBothDirectionsAndReplayedInitiation() {
        StaticIdentity i = new StaticIdentity(dev.pktkit.wireguard.crypto.Curve25519.generatePrivateKey());
        StaticIdentity r = new StaticIdentity(dev.pktkit.wireguard.crypto.Curve25519.generatePrivateKey());
        Handshake hi = new Handshake(i, r.publicKey(), null);
        Handshake hr = new Handshake(r, i.publicKey(), null);
        long t = 1_800_000_000L * 1_000_000_000L;
        byte[] init = hi.createInitiation(1, t);
        Handshake.ConsumedInitiation ci = Handshake.decryptInitiation(r, init, k -> hr.staticStatic());
        assertEquals(Handshake.Acceptance.ACCEPTED, hr.acceptInitiation(ci));
        // the same initiation again: timestamp not newer
        Handshake.ConsumedInitiation again = Handshake.decryptInitiation(r, init, k -> hr.staticStatic());
        assertEquals(Handshake.Acceptance.REPLAYED_TIMESTAMP, hr.acceptInitiation(again));
        byte[] resp = hr.createResponse(2);
        byte[] tampered = resp.clone();
        tampered[50] ^= 1;
        assertFalse(hi.consumeResponse(tampered));
        assertTrue(hi.consumeResponse(resp));
        assertFalse(hi.consumeResponse(resp), "a second response to the same initiation is refused");
        Keypair ki = hi.deriveKeypair(0);
        Keypair kr = hr.deriveKeypair(0);
        byte[] a = new byte[48];
        a[0] = 42;
        kr.sendCipher().seal(0, a, 0, 32);
        assertEquals(32, ki.receiveCipher().open(0, a, 0, 48));
        assertEquals(42, a[0]);
        // a later initiation is accepted again
        byte[] init2 = hi.createInitiation(3, t + 2_000_000_000L);
        assertEquals(Handshake.Acceptance.ACCEPTED,
                hr.acceptInitiation(Handshake.decryptInitiation(r, init2, k -> hr.staticStatic())));
        assertTrue(Tai64n.LEN == 12);
    }

    @Test
    void wrongResponderKeyDoesNotDecrypt() {
        StaticIdentity i = new StaticIdentity(seq(1));
        StaticIdentity r = new StaticIdentity(seq(33));
        StaticIdentity other = new StaticIdentity(seq(3));
        Handshake hi = new Handshake(i, r.publicKey(), null);
        byte[] init = hi.createInitiation(1, 5_000_000_000L);
        assertNull(Handshake.decryptInitiation(other, init, k -> new byte[32]));
        init[45] ^= 1;
        assertNull(Handshake.decryptInitiation(r, init, k -> new Handshake(r, i.publicKey(), null).staticStatic()));
    }

    @Test
    void cookieReplyRoundTripGivesValidMac2() {
        StaticIdentity i = new StaticIdentity(seq(1));
        StaticIdentity r = new StaticIdentity(seq(33));
        CookieChecker checker = new CookieChecker(r, 120_000_000_000L);
        CookieGenerator gen = new CookieGenerator(r.publicKey(), 115_000_000_000L);
        byte[] src = {127, 0, 0, 1, 0x12, 0x34};
        byte[] init = new Handshake(i, r.publicKey(), null).createInitiation(9, 1_000_000_000L);
        gen.addMacs(init, 0);
        assertTrue(checker.checkMac1(init));
        assertFalse(checker.checkMac2(init, src, 0));
        byte[] reply = checker.createReply(init, 9, src, 0);
        assertTrue(gen.consumeReply(reply, 1));
        gen.addMacs(init, 2);
        assertTrue(checker.checkMac1(init));
        assertTrue(checker.checkMac2(init, src, 3));
        assertFalse(checker.checkMac2(init, new byte[] {127, 0, 0, 2, 0x12, 0x34}, 3), "bound to the address");
        // the cookie expires at the generator after its lifetime
        gen.addMacs(init, 200_000_000_000L);
        assertFalse(checker.checkMac2(init, src, 4));
        byte[] bad = reply.clone();
        bad[40] ^= 1;
        assertFalse(gen.consumeReply(bad, 5));
    }
}
