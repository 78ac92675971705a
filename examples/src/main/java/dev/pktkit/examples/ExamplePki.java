package dev.pktkit.examples;

import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Certificate;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.TBSCertificate;
import org.bouncycastle.asn1.x509.Time;
import org.bouncycastle.asn1.x509.V3TBSCertificateGenerator;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.Date;

/**
 * The example's own certificates (EC P-256, ECDSA-SHA256), built with Bouncy Castle's ASN.1 classes and signed
 * with the JDK: a CA, a server certificate (serverAuth, so {@code remote-cert-tls server} passes) and a client
 * certificate (clientAuth). Files: {@code ca.pem}, {@code server.pem}/{@code server.key},
 * {@code client.pem}/{@code client.key} (PKCS#8). Example code, not a CA.
 */
final class ExamplePki {
    final Path ca;
    final Path serverCert;
    final Path serverKey;
    final Path clientCert;
    final Path clientKey;

    private ExamplePki(Path dir) {
        ca = dir.resolve("ca.pem");
        serverCert = dir.resolve("server.pem");
        serverKey = dir.resolve("server.key");
        clientCert = dir.resolve("client.pem");
        clientKey = dir.resolve("client.key");
    }

    /** Makes the files in {@code dir} unless they are there. */
    static ExamplePki ensure(Path dir) throws IOException, GeneralSecurityException {
        ExamplePki p = new ExamplePki(dir);
        if (Files.exists(p.clientKey)) {
            return p;
        }
        Files.createDirectories(dir);
        SecureRandom r = new SecureRandom();
        KeyPair caKeys = ec();
        X500Name caName = new X500Name("CN=pktkit example CA");
        Files.writeString(p.ca, pem("CERTIFICATE", cert(caName, caName, caKeys, caKeys.getPrivate(), true, null, r)));
        KeyPair s = ec();
        Files.writeString(p.serverCert, pem("CERTIFICATE", cert(caName, new X500Name("CN=server"), s,
                caKeys.getPrivate(), false, KeyPurposeId.id_kp_serverAuth, r)));
        Files.writeString(p.serverKey, pem("PRIVATE KEY", s.getPrivate().getEncoded()));
        KeyPair c = ec();
        Files.writeString(p.clientCert, pem("CERTIFICATE", cert(caName, new X500Name("CN=client"), c,
                caKeys.getPrivate(), false, KeyPurposeId.id_kp_clientAuth, r)));
        Files.writeString(p.clientKey, pem("PRIVATE KEY", c.getPrivate().getEncoded()));
        return p;
    }

    private static KeyPair ec() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static byte[] cert(X500Name issuer, X500Name subject, KeyPair subjectKeys, PrivateKey issuerKey,
                               boolean ca, KeyPurposeId eku, SecureRandom r)
            throws IOException, GeneralSecurityException {
        AlgorithmIdentifier sigAlg = new AlgorithmIdentifier(X9ObjectIdentifiers.ecdsa_with_SHA256);
        V3TBSCertificateGenerator g = new V3TBSCertificateGenerator();
        g.setSerialNumber(new ASN1Integer(new BigInteger(64, r).add(BigInteger.ONE)));
        g.setIssuer(issuer);
        g.setSubject(subject);
        long now = System.currentTimeMillis();
        g.setStartDate(new Time(new Date(now - 3_600_000L)));
        g.setEndDate(new Time(new Date(now + 365L * 86_400_000L)));
        g.setSubjectPublicKeyInfo(SubjectPublicKeyInfo.getInstance(subjectKeys.getPublic().getEncoded()));
        g.setSignature(sigAlg);
        ExtensionsGenerator ext = new ExtensionsGenerator();
        ext.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        ext.addExtension(Extension.keyUsage, true, new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign
                : KeyUsage.digitalSignature));
        if (eku != null) {
            ext.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(eku));
        }
        g.setExtensions(ext.generate());
        TBSCertificate tbs = g.generateTBSCertificate();
        Signature sig = Signature.getInstance("SHA256withECDSA");
        sig.initSign(issuerKey);
        sig.update(tbs.getEncoded(ASN1Encoding.DER));
        ASN1EncodableVector v = new ASN1EncodableVector();
        v.add(tbs);
        v.add(sigAlg);
        v.add(new DERBitString(sig.sign()));
        return Certificate.getInstance(new DERSequence(v)).getEncoded(ASN1Encoding.DER);
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
