package dev.pktkit.openvpn;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;

import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertStore;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.X509CRL;
import java.security.cert.X509CertSelector;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The server's TLS context as OpenVPN's {@code ca}, {@code cert}, {@code key} and {@code crl-verify} directives
 * describe it: the JDK provider, TLS 1.3 and 1.2, client certificates required and verified against the CA
 * file's certificates, and, with a CRL file, refused when revoked (PKIX revocation checking against that CRL
 * only; no OCSP or fetching).
 */
public final class OpenVpnTls {
    private OpenVpnTls() {
    }

    /**
     * @param crl a PEM or DER CRL file ({@code crl-verify}), or null for none
     */
    public static SslContext serverContext(Path cert, Path key, Path ca, Path crl)
            throws IOException, GeneralSecurityException {
        return serverContext(Files.readAllBytes(cert), Files.readAllBytes(key), Files.readAllBytes(ca),
                crl == null ? null : Files.readAllBytes(crl), null);
    }

    /**
     * As {@link #serverContext(Path, Path, Path, Path)} from the files' contents (PEM; a CRL may be DER), e.g. a
     * configuration file's inline {@code <ca>} blocks.
     *
     * @param protocols the TLS versions to enable, or null for TLS 1.3 and 1.2
     */
    public static SslContext serverContext(byte[] cert, byte[] key, byte[] ca, byte[] crl, String[] protocols)
            throws IOException, GeneralSecurityException {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        Collection<? extends java.security.cert.Certificate> cas =
                cf.generateCertificates(new java.io.ByteArrayInputStream(ca));
        SslContextBuilder b = SslContextBuilder.forServer(new java.io.ByteArrayInputStream(cert),
                        new java.io.ByteArrayInputStream(key)).sslProvider(SslProvider.JDK)
                .protocols(protocols == null ? new String[] {"TLSv1.3", "TLSv1.2"} : protocols)
                .clientAuth(ClientAuth.REQUIRE);
        if (crl == null) {
            return build(b.trustManager(new java.io.ByteArrayInputStream(ca)));
        }
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        int i = 0;
        for (java.security.cert.Certificate c : cas) {
            anchors.setCertificateEntry("ca" + i++, c);
        }
        List<Object> store = new ArrayList<>();
        for (java.security.cert.CRL c : cf.generateCRLs(new java.io.ByteArrayInputStream(crl))) {
            store.add((X509CRL) c);
        }
        PKIXBuilderParameters p = new PKIXBuilderParameters(anchors, new X509CertSelector());
        p.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(store)));
        p.setRevocationEnabled(true);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(new CertPathTrustManagerParameters(p));
        return build(b.trustManager(tmf));
    }

    /**
     * The TLS context of a client profile's {@code ca}/{@code cert}/{@code key} for {@link OpenVpnClient}: TLS
     * 1.3 and 1.2 on the JDK provider, the server's certificate chained to {@code ca}. As in OpenVPN (without
     * {@code verify-x509-name}) the server's name is not checked against a host name.
     */
    public static SslContext clientContext(Path cert, Path key, Path ca) throws IOException {
        return build(SslContextBuilder.forClient().sslProvider(SslProvider.JDK).protocols("TLSv1.3", "TLSv1.2")
                .keyManager(cert.toFile(), key.toFile()).trustManager(ca.toFile())
                .endpointIdentificationAlgorithm(null));
    }

    private static SslContext build(SslContextBuilder b) throws SSLException {
        return b.build();
    }
}
