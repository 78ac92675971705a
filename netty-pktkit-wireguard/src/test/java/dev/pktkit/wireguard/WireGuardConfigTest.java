package dev.pktkit.wireguard;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WireGuardConfigTest {
    // keys as `wg genkey | tee priv | wg pubkey` prints them
    private static final String PRIV = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";
    private static final String PUB_OF_PRIV = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";
    private static final String PEER = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
    private static final String PSK = "FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=";

    @Test
    void keysAreWgBase64AndPublicKeyMatchesWgPubkey() {
        WireGuardKey k = WireGuardKey.parse(PRIV);
        assertEquals(PRIV, k.toBase64());
        assertEquals(PUB_OF_PRIV, k.publicKey().toBase64()); // the wg(8) man page's example pair
        assertThrows(IllegalArgumentException.class, () -> WireGuardKey.parse("abc"));
        assertThrows(IllegalArgumentException.class, () -> WireGuardKey.parse(PRIV.substring(1) + "="));
        assertTrue(!k.toString().contains(PRIV));
    }

    @Test
    void parsesWgQuickAndWritesItBack() {
        String text = """
                [Interface]
                # a comment
                PrivateKey = %s
                ListenPort = 51820
                Address = 10.8.0.1/24, fd08::1/64
                DNS = 10.8.0.1
                PostUp = iptables -A FORWARD -i %%i -j ACCEPT

                [Peer]
                PublicKey = %s
                PresharedKey = %s
                AllowedIPs = 10.8.0.2/32
                AllowedIPs = fd08::2/128
                Endpoint = [::1]:51821
                PersistentKeepalive = 25

                [peer]
                publickey = %s
                endpoint = vpn.example.org:51820
                """.formatted(PRIV, PEER, PSK, PUB_OF_PRIV);
        WireGuardConfig c = WireGuardConfig.parse(text);
        assertEquals(51820, c.listenPort());
        assertEquals(2, c.addresses().size());
        assertEquals(2, c.peers().size());
        WireGuardPeerConfig p = c.peers().get(0);
        assertEquals(PEER, p.publicKey().toBase64());
        assertEquals(PSK, p.presharedKey().toBase64());
        assertEquals(2, p.allowedIps().size());
        assertEquals(new InetSocketAddress("::1", 51821), p.endpoint());
        assertEquals(25, p.persistentKeepalive());
        WireGuardPeerConfig q = c.peers().get(1);
        assertTrue(q.endpoint().isUnresolved());
        assertEquals("vpn.example.org", q.endpoint().getHostString());
        assertNull(q.presharedKey());
        WireGuardConfig again = WireGuardConfig.parse(c.toWgQuick());
        assertEquals(c, again);
        String setconf = c.toWgSetconf();
        assertTrue(!setconf.contains("Address") && !setconf.contains("PostUp"), setconf);
        assertTrue(setconf.contains("Endpoint = [0:0:0:0:0:0:0:1]:51821") || setconf.contains("Endpoint = [::1]:51821"));
    }

    @Test
    void errorsNameTheLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WireGuardConfig.parse("[Interface]\nPrivateKey = " + PRIV + "\nBogus = 1\n"));
        assertTrue(e.getMessage().startsWith("line 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WireGuardConfig.parse("[Peer]\nPublicKey = " + PEER));
        assertThrows(IllegalArgumentException.class,
                () -> WireGuardConfig.parse("[Interface]\nPrivateKey = " + PRIV + "\n[Peer]\nEndpoint = ::1:5\n"));
    }
}
