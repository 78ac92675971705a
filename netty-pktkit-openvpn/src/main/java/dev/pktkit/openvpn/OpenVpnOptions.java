package dev.pktkit.openvpn;

import dev.pktkit.openvpn.crypto.ControlWrap;
import dev.pktkit.openvpn.crypto.KeyDirection;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.openvpn.crypto.TlsAuth;
import dev.pktkit.openvpn.crypto.TlsCrypt;
import dev.pktkit.openvpn.data.DataCipher;
import dev.pktkit.openvpn.reliable.ReliableConfig;
import io.netty.handler.ssl.SslContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The options an OpenVPN client and server both have: TLS, control-channel protection ({@code tls-auth},
 * {@code tls-crypt}), {@code data-ciphers}, {@code auth}, the reliability layer, {@code hand-window},
 * {@code reneg-sec}, {@code transition-window} and the TLS exporter. {@link OpenVpnServer.Builder} and
 * {@link OpenVpnClient.Builder} extend it with their role's own options; the defaults are OpenVPN 2.6's for the
 * role ({@code tls-auth} direction 0 on the server and 1 on the client, {@code reneg-sec} 3600 on the server and
 * 0 on the client, where only the server starts renegotiations).
 *
 * @param <B> the role's builder, returned by every setter
 */
public abstract class OpenVpnOptions<B extends OpenVpnOptions<B>> {
    private SslContext ssl;
    private StaticKey tlsAuthKey;
    private KeyDirection tlsAuthDirection;
    private String tlsAuthDigest = "SHA1";
    private StaticKey tlsCryptKey;
    private List<DataCipher> dataCiphers = List.of(DataCipher.AES_256_GCM, DataCipher.AES_128_GCM,
            DataCipher.CHACHA20_POLY1305);
    private String authDigest = "SHA1";
    private ReliableConfig reliableConfig = ReliableConfig.DEFAULT;
    private int handWindowSeconds = 60;
    private int renegSeconds;
    private int transitionWindowSeconds = 60;
    private boolean tlsEkm = true;
    private int mssfix = MssFix.DEFAULT;

    OpenVpnOptions(KeyDirection tlsAuthDirection, int renegSeconds) {
        this.tlsAuthDirection = tlsAuthDirection;
        this.renegSeconds = renegSeconds;
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /**
     * The TLS context: our certificate and key, and the CA the peer's certificate must chain to (a server context
     * for {@link OpenVpnServer}, a client context for {@link OpenVpnClient}; {@link OpenVpnTls} makes both).
     */
    public B ssl(SslContext ssl) {
        this.ssl = ssl;
        return self();
    }

    /**
     * {@code tls-auth KEY DIRECTION} with the {@code auth} digest of the control channel (SHA1 by default): every
     * control packet carries an HMAC under the shared static key.
     */
    public B tlsAuth(StaticKey key, KeyDirection direction, String digest) {
        this.tlsAuthKey = key;
        this.tlsAuthDirection = direction;
        this.tlsAuthDigest = digest;
        return self();
    }

    /** {@code tls-crypt KEY}: every control packet encrypted and authenticated with the shared static key. */
    public B tlsCrypt(StaticKey key) {
        this.tlsCryptKey = key;
        return self();
    }

    /**
     * {@code data-ciphers}, in our order of preference (the server picks the first of its list that the client's
     * {@code IV_CIPHERS} has; the client offers its list as {@code IV_CIPHERS}).
     *
     * @throws IllegalArgumentException for a cipher this implementation does not have
     */
    public B dataCiphers(String colonSeparated) {
        List<DataCipher> l = new ArrayList<>();
        for (String n : colonSeparated.split(":")) {
            DataCipher c = DataCipher.byName(n);
            if (c == null) {
                throw new IllegalArgumentException("unsupported data cipher " + n);
            }
            l.add(c);
        }
        this.dataCiphers = l;
        return self();
    }

    /**
     * {@code auth}: the HMAC digest of CBC data channels (OpenVPN's default SHA1; SHA256, SHA512). It is not
     * negotiated: both ends must name the same one.
     */
    public B auth(String digest) {
        this.authDigest = digest;
        return self();
    }

    /** The reliability layer's windows and timeouts ({@link ReliableConfig#DEFAULT}: OpenVPN 2.6's). */
    public B reliable(ReliableConfig config) {
        this.reliableConfig = config;
        return self();
    }

    /** {@code hand-window}: a session (or a renegotiation) not done within this many seconds is dropped (60). */
    public B handWindow(int seconds) {
        this.handWindowSeconds = seconds;
        return self();
    }

    /**
     * {@code reneg-sec}: we start a new key (soft reset) when the primary one is this old (0 for never; 3600 on
     * the server, 0 on the client). The peer's renegotiations are answered whatever this is.
     */
    public B renegSeconds(int seconds) {
        this.renegSeconds = seconds;
        return self();
    }

    /** {@code transition-window}: how long the previous data key is still accepted after a new one (60 s). */
    public B transitionWindow(int seconds) {
        this.transitionWindowSeconds = seconds;
        return self();
    }

    /**
     * Whether to use the TLS exporter for the data keys ({@code tls-ekm}, default true where the JDK has it): the
     * client offers it in {@code IV_PROTO}, the server uses it when offered; false forces the PRF.
     */
    public B tlsEkm(boolean on) {
        this.tlsEkm = on;
        return self();
    }

    /**
     * {@code mssfix N mtu} (OpenVPN 2.6's default is {@code 1492 mtu}, and so is ours): the MSS option of TCP SYNs
     * crossing the tunnel either way is lowered so that a full segment, encapsulated, is an outer IP packet of at
     * most {@code outerPacketBytes} (IP and UDP or TCP header included); 0 turns it off. Without it a tunnel with
     * a 1500-byte MTU sends every full segment as two IP fragments.
     */
    public B mssfix(int outerPacketBytes) {
        if (outerPacketBytes < 0 || outerPacketBytes > 65535) {
            throw new IllegalArgumentException("mssfix must be 0..65535: " + outerPacketBytes);
        }
        this.mssfix = outerPacketBytes;
        return self();
    }

    /** The options as the client or server keeps them; checks what both roles check. */
    Shared shared(boolean server) {
        Objects.requireNonNull(ssl, "ssl");
        if (ssl.isClient() == server) {
            throw new IllegalArgumentException(server
                    ? "ssl must be a server context (OpenVpnTls.serverContext)"
                    : "ssl must be a client context (OpenVpnTls.clientContext)");
        }
        if (tlsAuthKey != null && tlsCryptKey != null) {
            throw new IllegalArgumentException("choose one of tls-auth and tls-crypt");
        }
        return new Shared(server, ssl, tlsAuthKey, tlsAuthDirection, tlsAuthDigest, tlsCryptKey,
                List.copyOf(dataCiphers), authDigest, reliableConfig, TimeUnit.SECONDS.toNanos(handWindowSeconds),
                TimeUnit.SECONDS.toNanos(renegSeconds), TimeUnit.SECONDS.toNanos(transitionWindowSeconds), tlsEkm,
                mssfix);
    }

    /** The shared options, frozen: what {@link OpenVpnServer} and {@link OpenVpnClient} keep. */
    record Shared(boolean server, SslContext ssl, StaticKey tlsAuthKey, KeyDirection tlsAuthDirection,
                  String tlsAuthDigest, StaticKey tlsCryptKey, List<DataCipher> dataCiphers, String authDigest,
                  ReliableConfig reliableConfig, long handWindowNanos, long renegNanos, long transitionNanos,
                  boolean tlsEkm, int mssfix) {

        /** Whether a static-key protection ({@code tls-auth} or {@code tls-crypt}) is configured. */
        boolean staticKeyProtection() {
            return tlsAuthKey != null || tlsCryptKey != null;
        }

        /** A fresh instance of the configured tls-auth / tls-crypt protection, or null for none. */
        ControlWrap newWrap() {
            if (tlsAuthKey != null) {
                return new TlsAuth(tlsAuthKey, tlsAuthDirection, tlsAuthDigest);
            }
            if (tlsCryptKey != null) {
                return new TlsCrypt(tlsCryptKey, server);
            }
            return null;
        }
    }
}
