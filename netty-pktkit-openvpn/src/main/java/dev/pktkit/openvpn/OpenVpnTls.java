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

    /**
     * The TLS context of a client profile read from its contents (PEM; e.g. inline {@code <ca>} blocks), with the
     * server checks a profile can ask for, made after the chain to {@code ca} is verified.
     *
     * @param cert our certificate chain, or null with {@code key} null (a server that needs no client certificate)
     * @param protocols the TLS versions to enable, or null for TLS 1.3 and 1.2
     * @param serverCheck what else the server's certificate must satisfy ({@code remote-cert-tls server},
     *                    {@code verify-x509-name}), or null for nothing
     */
    public static SslContext clientContext(byte[] cert, byte[] key, byte[] ca, String[] protocols,
                                           ServerCheck serverCheck) throws IOException, GeneralSecurityException {
        if ((cert == null) != (key == null)) {
            throw new IllegalArgumentException("cert and key go together");
        }
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        int i = 0;
        for (java.security.cert.Certificate c : cf.generateCertificates(new java.io.ByteArrayInputStream(ca))) {
            anchors.setCertificateEntry("ca" + i++, c);
        }
        if (i == 0) {
            throw new GeneralSecurityException("ca holds no certificate");
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(anchors);
        javax.net.ssl.X509ExtendedTrustManager pkix = null;
        for (javax.net.ssl.TrustManager tm : tmf.getTrustManagers()) {
            if (tm instanceof javax.net.ssl.X509ExtendedTrustManager x) {
                pkix = x;
            }
        }
        if (pkix == null) {
            throw new GeneralSecurityException("no X.509 trust manager");
        }
        SslContextBuilder b = SslContextBuilder.forClient().sslProvider(SslProvider.JDK)
                .protocols(protocols == null ? new String[] {"TLSv1.3", "TLSv1.2"} : protocols)
                .trustManager(serverCheck == null ? pkix : new CheckingTrustManager(pkix, serverCheck))
                .endpointIdentificationAlgorithm(null);
        if (cert != null) {
            b.keyManager(new java.io.ByteArrayInputStream(cert), new java.io.ByteArrayInputStream(key));
        }
        return build(b);
    }

    /**
     * Checks on the server's certificate beyond its chain, as a client profile states them.
     *
     * @param remoteCertTlsServer {@code remote-cert-tls server}: the certificate must have a key usage extension
     *                            and the extended key usage TLS Web Server Authentication (serverAuth)
     * @param x509Name the {@code verify-x509-name} value, or null for no name check
     * @param x509NameType {@code subject} (the whole subject, written as OpenVPN 2.6 prints it:
     *                     {@code C=DE, O=Example, CN=server}), {@code name} (the common name) or
     *                     {@code name-prefix} (the common name starts with the value)
     */
    public record ServerCheck(boolean remoteCertTlsServer, String x509Name, String x509NameType) {
        public ServerCheck {
            if (x509Name != null && !List.of("subject", "name", "name-prefix").contains(x509NameType)) {
                throw new IllegalArgumentException("verify-x509-name type must be subject, name or name-prefix");
            }
        }

        /** @throws java.security.cert.CertificateException when the server's certificate does not pass */
        public void check(java.security.cert.X509Certificate server) throws java.security.cert.CertificateException {
            if (remoteCertTlsServer) {
                List<String> eku = server.getExtendedKeyUsage();
                if (server.getKeyUsage() == null || eku == null || !eku.contains("1.3.6.1.5.5.7.3.1")) {
                    throw new java.security.cert.CertificateException(
                            "remote-cert-tls server: the certificate lacks key usage or serverAuth extended key usage");
                }
            }
            if (x509Name != null) {
                String subject = openVpnSubject(server.getSubjectX500Principal());
                String cn = commonName(server.getSubjectX500Principal());
                boolean ok = switch (x509NameType) {
                    case "subject" -> subject.equals(x509Name);
                    case "name" -> x509Name.equals(cn);
                    default -> cn != null && cn.startsWith(x509Name);
                };
                if (!ok) {
                    throw new java.security.cert.CertificateException("verify-x509-name " + x509Name + " "
                            + x509NameType + ": the server is " + subject);
                }
            }
        }

        /** The subject as OpenVPN 2.6 prints it: RDNs in certificate order, {@code ", "} between them. */
        static String openVpnSubject(javax.security.auth.x500.X500Principal p) {
            List<String> rdns = new ArrayList<>();
            try {
                for (javax.naming.ldap.Rdn r : new javax.naming.ldap.LdapName(p.getName()).getRdns()) {
                    rdns.add(r.getType() + "=" + r.getValue());
                }
            } catch (javax.naming.InvalidNameException e) {
                return p.getName();
            }
            return String.join(", ", rdns); // LdapName lists the RDNs from the last one (RFC 2253 order reversed)
        }

        static String commonName(javax.security.auth.x500.X500Principal p) {
            String cn = null;
            try {
                for (javax.naming.ldap.Rdn r : new javax.naming.ldap.LdapName(p.getName()).getRdns()) {
                    if (r.getType().equalsIgnoreCase("CN")) {
                        cn = String.valueOf(r.getValue()); // the last CN in certificate order, as OpenVPN takes
                    }
                }
            } catch (javax.naming.InvalidNameException e) {
                return null;
            }
            return cn;
        }
    }

    /** The PKIX trust manager's verdict, then the profile's {@link ServerCheck} on the server's certificate. */
    private static final class CheckingTrustManager extends javax.net.ssl.X509ExtendedTrustManager {
        private final javax.net.ssl.X509ExtendedTrustManager pkix;
        private final ServerCheck check;

        CheckingTrustManager(javax.net.ssl.X509ExtendedTrustManager pkix, ServerCheck check) {
            this.pkix = pkix;
            this.check = check;
        }

        @Override
        public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType,
                                       java.net.Socket socket) throws java.security.cert.CertificateException {
            pkix.checkServerTrusted(chain, authType, socket);
            check.check(chain[0]);
        }

        @Override
        public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType,
                                       javax.net.ssl.SSLEngine engine) throws java.security.cert.CertificateException {
            pkix.checkServerTrusted(chain, authType, engine);
            check.check(chain[0]);
        }

        @Override
        public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType)
                throws java.security.cert.CertificateException {
            pkix.checkServerTrusted(chain, authType);
            check.check(chain[0]);
        }

        @Override
        public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType,
                                       java.net.Socket socket) throws java.security.cert.CertificateException {
            pkix.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType,
                                       javax.net.ssl.SSLEngine engine) throws java.security.cert.CertificateException {
            pkix.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType)
                throws java.security.cert.CertificateException {
            pkix.checkClientTrusted(chain, authType);
        }

        @Override
        public java.security.cert.X509Certificate[] getAcceptedIssuers() {
            return pkix.getAcceptedIssuers();
        }
    }

    private static SslContext build(SslContextBuilder b) throws SSLException {
        return b.build();
    }
}
