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
                String subject;
                try {
                    subject = openVpnSubject(server.getSubjectX500Principal());
                } catch (IllegalArgumentException e) {
                    throw new java.security.cert.CertificateException("verify-x509-name: " + e.getMessage());
                }
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

        /**
         * The subject as OpenVPN 2.6 prints it for {@code verify-x509-name ... subject} (OpenSSL's
         * {@code X509_NAME_print_ex} with {@code XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN}, UTF-8, control characters
         * escaped): the RDNs in certificate order with {@code ", "} between them, the parts of a multi-valued RDN
         * in their encoded order with {@code " + "} between them, each part as OpenSSL's short name
         * ({@code emailAddress}, {@code serialNumber}, {@code street}, ...; the dotted OID for a type OpenSSL does
         * not name), {@code =} and the value unescaped. A value that is not a string is {@code #} and its hex.
         * Read from the DER encoding: the JDK's RFC 2253 form prints unnamed types as {@code #hex} and
         * {@link javax.naming.ldap.Rdn} reorders multi-valued RDNs.
         */
        static String openVpnSubject(javax.security.auth.x500.X500Principal p) {
            Der name = new Der(p.getEncoded(), 0, p.getEncoded().length);
            StringBuilder out = new StringBuilder();
            Der rdns = name.next(0x30);
            while (rdns.more()) {
                Der set = rdns.next(0x31);
                if (!out.isEmpty()) {
                    out.append(", ");
                }
                boolean first = true;
                while (set.more()) {
                    Der ava = set.next(0x30);
                    Der oid = ava.next(0x06);
                    Der value = ava.next(-1);
                    if (!first) {
                        out.append(" + ");
                    }
                    first = false;
                    String oidText = oid.oid();
                    out.append(SHORT_NAMES.getOrDefault(oidText, oidText)).append('=');
                    appendValue(out, value);
                }
            }
            if (!out.isEmpty() && out.charAt(0) == '-') {
                out.setCharAt(0, '_'); // OpenVPN's string_replace_leading(subject, '-', '_')
            }
            return out.toString();
        }

        /** OpenSSL's short names ({@code obj_mac.h}) of the attribute types a subject carries. */
        private static final java.util.Map<String, String> SHORT_NAMES = java.util.Map.ofEntries(
                java.util.Map.entry("2.5.4.3", "CN"), java.util.Map.entry("2.5.4.4", "SN"),
                java.util.Map.entry("2.5.4.5", "serialNumber"), java.util.Map.entry("2.5.4.6", "C"),
                java.util.Map.entry("2.5.4.7", "L"), java.util.Map.entry("2.5.4.8", "ST"),
                java.util.Map.entry("2.5.4.9", "street"), java.util.Map.entry("2.5.4.10", "O"),
                java.util.Map.entry("2.5.4.11", "OU"), java.util.Map.entry("2.5.4.12", "title"),
                java.util.Map.entry("2.5.4.13", "description"), java.util.Map.entry("2.5.4.15", "businessCategory"),
                java.util.Map.entry("2.5.4.17", "postalCode"), java.util.Map.entry("2.5.4.41", "name"),
                java.util.Map.entry("2.5.4.42", "GN"), java.util.Map.entry("2.5.4.43", "initials"),
                java.util.Map.entry("2.5.4.44", "generationQualifier"),
                java.util.Map.entry("2.5.4.46", "dnQualifier"), java.util.Map.entry("2.5.4.65", "pseudonym"),
                java.util.Map.entry("2.5.4.72", "role"), java.util.Map.entry("2.5.4.97", "organizationIdentifier"),
                java.util.Map.entry("1.2.840.113549.1.9.1", "emailAddress"),
                java.util.Map.entry("1.2.840.113549.1.9.2", "unstructuredName"),
                java.util.Map.entry("0.9.2342.19200300.100.1.1", "UID"),
                java.util.Map.entry("0.9.2342.19200300.100.1.25", "DC"),
                java.util.Map.entry("1.3.6.1.4.1.311.60.2.1.1", "jurisdictionL"),
                java.util.Map.entry("1.3.6.1.4.1.311.60.2.1.2", "jurisdictionST"),
                java.util.Map.entry("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC"));

        private static final String HEX = "0123456789ABCDEF";

        private static void appendValue(StringBuilder out, Der v) {
            byte[] b = java.util.Arrays.copyOfRange(v.buf, v.start, v.end);
            String text = switch (v.tag) {
                case 0x0c -> new String(b, java.nio.charset.StandardCharsets.UTF_8); // UTF8String
                case 0x12, 0x13, 0x16, 0x1a -> new String(b, java.nio.charset.StandardCharsets.US_ASCII);
                case 0x14 -> new String(b, java.nio.charset.StandardCharsets.ISO_8859_1); // T61String, as OpenSSL
                case 0x1e -> new String(b, java.nio.charset.StandardCharsets.UTF_16BE); // BMPString
                case 0x1c -> new String(b, java.nio.charset.Charset.forName("UTF-32BE")); // UniversalString
                default -> null;
            };
            if (text == null) {
                out.append('#');
                for (byte x : b) {
                    out.append(HEX.charAt((x >> 4) & 15)).append(HEX.charAt(x & 15)); // OpenSSL's capitals
                }
                return;
            }
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c < 0x20 || c == 0x7f) {
                    out.append('\\').append(String.format("%02X", (int) c)); // ASN1_STRFLGS_ESC_CTRL
                } else {
                    out.append(c);
                }
            }
        }

        /** A minimal DER reader over one encoded X.509 Name (definite lengths only, as DER has). */
        private static final class Der {
            final byte[] buf;
            final int start;
            final int end;
            int tag;
            private int pos;

            Der(byte[] buf, int start, int end) {
                this.buf = buf;
                this.start = start;
                this.end = end;
                this.pos = start;
            }

            boolean more() {
                return pos < end;
            }

            /** The next element (its content as a new reader), refused unless its tag is {@code want} (-1: any). */
            Der next(int want) {
                if (pos + 2 > end) {
                    throw new IllegalArgumentException("truncated name");
                }
                int t = buf[pos++] & 0xff;
                int len = buf[pos++] & 0xff;
                if (len >= 0x80) {
                    int n = len & 0x7f;
                    if (n == 0 || n > 3 || pos + n > end) {
                        throw new IllegalArgumentException("bad length in name");
                    }
                    len = 0;
                    for (int i = 0; i < n; i++) {
                        len = (len << 8) | (buf[pos++] & 0xff);
                    }
                }
                if (len > end - pos || (want >= 0 && t != want)) {
                    throw new IllegalArgumentException("bad element in name");
                }
                Der d = new Der(buf, pos, pos + len);
                d.tag = t;
                pos += len;
                return d;
            }

            String oid() {
                StringBuilder s = new StringBuilder();
                long v = 0;
                boolean firstArc = true;
                for (int i = start; i < end; i++) {
                    v = (v << 7) | (buf[i] & 0x7f);
                    if ((buf[i] & 0x80) == 0) {
                        if (firstArc) {
                            int a = v < 40 ? 0 : v < 80 ? 1 : 2;
                            s.append(a).append('.').append(v - 40L * a);
                            firstArc = false;
                        } else {
                            s.append('.').append(v);
                        }
                        v = 0;
                    }
                }
                return s.toString();
            }
        }

        /**
         * The last CN in certificate order, a part of a multi-valued RDN included (OpenVPN's
         * {@code extract_x509_field_ssl} takes the last entry with the NID), or null.
         */
        static String commonName(javax.security.auth.x500.X500Principal p) {
            String cn = null;
            try {
                Der rdns = new Der(p.getEncoded(), 0, p.getEncoded().length).next(0x30);
                while (rdns.more()) {
                    Der set = rdns.next(0x31);
                    while (set.more()) {
                        Der ava = set.next(0x30);
                        Der oid = ava.next(0x06);
                        Der value = ava.next(-1);
                        if (oid.oid().equals("2.5.4.3")) {
                            StringBuilder v = new StringBuilder();
                            appendValue(v, value);
                            cn = v.toString();
                        }
                    }
                }
            } catch (IllegalArgumentException e) {
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
