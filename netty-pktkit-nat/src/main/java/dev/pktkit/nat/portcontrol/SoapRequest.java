package dev.pktkit.nat.portcontrol;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One parsed SOAP action call: the action element's namespace (the service type) and local name, and its
 * arguments. Parsed with DTDs refused ({@code disallow-doctype-decl}: a document with a DOCTYPE, hence any
 * entity declaration, fails), external entities and external DTD loading off, XInclude off, secure processing on.
 * The caller bounds the size.
 */
record SoapRequest(String serviceType, String action, Map<String, String> args) {
    static final String SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/";
    private static final int MAX_ARGS = 32;
    private static final int MAX_ARG_CHARS = 1024;
    private static final DocumentBuilderFactory FACTORY = factory();

    private static DocumentBuilderFactory factory() {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        try {
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the XML parser cannot be made safe", e);
        }
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        f.setXIncludeAware(false);
        f.setExpandEntityReferences(false);
        f.setNamespaceAware(true);
        f.setValidating(false);
        return f;
    }

    /** Thrown for a body that is not a SOAP action call we can read. */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    static SoapRequest parse(byte[] body) throws Malformed {
        Document doc;
        try {
            DocumentBuilder b = FACTORY.newDocumentBuilder();
            b.setEntityResolver((publicId, systemId) -> {
                throw new SAXException("external entity refused: " + systemId);
            });
            b.setErrorHandler(null);
            doc = b.parse(new InputSource(new ByteArrayInputStream(body)));
        } catch (SAXException | IOException | ParserConfigurationException e) {
            throw new Malformed("not well-formed: " + e.getMessage());
        }
        Element env = doc.getDocumentElement();
        if (!"Envelope".equals(env.getLocalName()) || !SOAP_ENV.equals(env.getNamespaceURI())) {
            throw new Malformed("not a SOAP envelope");
        }
        Element body0 = null;
        for (Node n = env.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && "Body".equals(e.getLocalName()) && SOAP_ENV.equals(e.getNamespaceURI())) {
                body0 = e;
                break;
            }
        }
        if (body0 == null) {
            throw new Malformed("no SOAP body");
        }
        Element action = firstElement(body0);
        if (action == null || action.getNamespaceURI() == null) {
            throw new Malformed("no action");
        }
        Map<String, String> args = new LinkedHashMap<>();
        for (Node n = action.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e) {
                if (args.size() >= MAX_ARGS) {
                    throw new Malformed("too many arguments");
                }
                if (firstElement(e) != null) {
                    throw new Malformed("nested argument " + e.getLocalName());
                }
                String v = e.getTextContent();
                if (v.length() > MAX_ARG_CHARS) {
                    throw new Malformed("argument too long");
                }
                args.put(e.getLocalName(), v.trim());
            }
        }
        return new SoapRequest(action.getNamespaceURI(), action.getLocalName(), args);
    }

    private static Element firstElement(Element parent) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e) {
                return e;
            }
        }
        return null;
    }
}
