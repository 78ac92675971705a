package dev.pktkit.nat.portcontrol;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.nat.Nat;
import dev.pktkit.nat.NatConfig;
import dev.pktkit.nat.NatMapping;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The UPnP IGD's HTTP/SOAP side on an {@link EmbeddedChannel} (raw HTTP bytes in, raw HTTP bytes out) with the
 * NAT on the same loop: descriptions, every WANIPConnection action, the requester-only rule, and hostile bodies
 * (oversized, malformed, DOCTYPE with an external entity, entity expansion).
 */
class IgdHttpHandlerTest {
    static final String HOST = "10.73.0.2";
    static final String IP1 = "urn:schemas-upnp-org:service:WANIPConnection:1";
    static final String IP2 = "urn:schemas-upnp-org:service:WANIPConnection:2";

    private EmbeddedChannel ch;
    private Nat nat;
    private PortControl pc;

    @BeforeEach
    void setUp() {
        ch = new EmbeddedChannel();
        nat = Nat.create(ch.eventLoop(), NatConfig.builder().outsideAddresses("198.51.100.1")
                .insideAddress("10.73.0.1").build());
        pc = PortControl.create(nat, PortControlConfig.builder().maxSoapBytes(2048).build());
        PortContext ctx = new PortContext("lan", nat.namespace("lan").getNow());
        ch.pipeline().addLast(new HttpServerCodec(), new IgdHttpHandler.Aggregator(2048, pc.counters()),
                new IgdHttpHandler(pc, ctx, Ip4.parse(HOST)));
    }

    @AfterEach
    void tearDown() {
        pc.close();
        nat.close();
        ch.finishAndReleaseAll();
    }

    private String exchange(String request) {
        ch.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.ISO_8859_1));
        ch.runPendingTasks();
        StringBuilder sb = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            sb.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        return sb.toString();
    }

    private String soap(String service, String action, String args) {
        String body = "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                + "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:" + action
                + " xmlns:u=\"" + service + "\">" + args + "</u:" + action + "></s:Body></s:Envelope>\r\n";
        return post("/ctl/IPConn", service + "#" + action, body);
    }

    private String post(String path, String soapAction, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return exchange("POST " + path + " HTTP/1.1\r\nHost: 10.73.0.1:5000\r\nContent-Type: text/xml\r\n"
                + "SOAPAction: \"" + soapAction + "\"\r\nContent-Length: " + bytes.length + "\r\n\r\n" + body);
    }

    static String add(String ext, String proto, String in, String client, String lease) {
        return "<NewRemoteHost></NewRemoteHost><NewExternalPort>" + ext + "</NewExternalPort><NewProtocol>" + proto
                + "</NewProtocol><NewInternalPort>" + in + "</NewInternalPort><NewInternalClient>" + client
                + "</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>d&amp;x</NewPortMappingDescription>"
                + "<NewLeaseDuration>" + lease + "</NewLeaseDuration>";
    }

    private NatMapping mappingAt(int proto, int port) {
        return nat.engine().mappingAt(proto, Ip4.parse("198.51.100.1"), port);
    }

    @Test
    void descriptionsAreServed() {
        String r = exchange("GET /rootDesc.xml HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(r.startsWith("HTTP/1.1 200 OK"), r);
        assertTrue(r.contains("<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType>"), r);
        assertTrue(r.contains("<controlURL>/ctl/IPConn</controlURL>"), r);
        assertTrue(r.contains("<UDN>uuid:" + pc.config().uuid() + "</UDN>"), r);
        String scpd = exchange("GET /WANIPCn.xml HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(scpd.contains("<name>AddAnyPortMapping</name>"), scpd);
        assertTrue(scpd.contains("<name>PortMappingLeaseDuration</name><dataType>ui4</dataType>"), scpd);
        assertTrue(exchange("GET /etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n").startsWith("HTTP/1.1 404"));
        assertTrue(exchange("SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: x\r\n\r\n").startsWith("HTTP/1.1 405"));
        assertEquals(2, pc.counters().get(PortControlCounter.HTTP_REFUSED));
    }

    @Test
    void addListGetDeleteOwnMapping() {
        String r = soap(IP1, "AddPortMapping", add("18080", "TCP", "8080", HOST, "3600"));
        assertTrue(r.startsWith("HTTP/1.1 200"), r);
        assertTrue(r.contains("<u:AddPortMappingResponse xmlns:u=\"" + IP1 + "\">"), r);
        NatMapping m = mappingAt(IpProtocol.TCP, 18080);
        assertNotNull(m);
        assertEquals(Ip4.parse(HOST), m.insideAddress());

        r = soap(IP1, "GetExternalIPAddress", "");
        assertTrue(r.contains("<NewExternalIPAddress>198.51.100.1</NewExternalIPAddress>"), r);
        r = soap(IP1, "GetGenericPortMappingEntry", "<NewPortMappingIndex>0</NewPortMappingIndex>");
        assertTrue(r.contains("<NewExternalPort>18080</NewExternalPort>"), r);
        assertTrue(r.contains("<NewInternalClient>" + HOST + "</NewInternalClient>"), r);
        assertTrue(r.contains("<NewPortMappingDescription>d&amp;x</NewPortMappingDescription>"), r);
        assertTrue(r.contains("<NewLeaseDuration>3600</NewLeaseDuration>"), r);
        r = soap(IP1, "GetGenericPortMappingEntry", "<NewPortMappingIndex>1</NewPortMappingIndex>");
        assertTrue(r.startsWith("HTTP/1.1 500") && r.contains("<errorCode>713</errorCode>"), r);
        r = soap(IP1, "GetSpecificPortMappingEntry",
                "<NewRemoteHost></NewRemoteHost><NewExternalPort>18080</NewExternalPort><NewProtocol>TCP</NewProtocol>");
        assertTrue(r.contains("<NewInternalPort>8080</NewInternalPort>"), r);

        // the same external port for another internal port: conflict
        r = soap(IP1, "AddPortMapping", add("18080", "TCP", "8081", HOST, "60"));
        assertTrue(r.contains("<errorCode>718</errorCode>"), r);
        // v2's AddAnyPortMapping picks another port instead
        r = soap(IP2, "AddAnyPortMapping", add("18080", "TCP", "8081", HOST, "0"));
        assertTrue(r.startsWith("HTTP/1.1 200"), r);
        int reserved = Integer.parseInt(r.replaceAll("(?s).*<NewReservedPort>(\\d+)</NewReservedPort>.*", "$1"));
        assertNotEquals(18080, reserved);
        assertEquals(8081, mappingAt(IpProtocol.TCP, reserved).insidePort());
        // but not in v1
        assertTrue(soap(IP1, "AddAnyPortMapping", add("1", "TCP", "8082", HOST, "0")).contains("<errorCode>401</errorCode>"));

        r = soap(IP1, "DeletePortMapping",
                "<NewRemoteHost></NewRemoteHost><NewExternalPort>18080</NewExternalPort><NewProtocol>TCP</NewProtocol>");
        assertTrue(r.startsWith("HTTP/1.1 200"), r);
        assertNull(mappingAt(IpProtocol.TCP, 18080));
        r = soap(IP1, "DeletePortMapping",
                "<NewRemoteHost></NewRemoteHost><NewExternalPort>18080</NewExternalPort><NewProtocol>TCP</NewProtocol>");
        assertTrue(r.contains("<errorCode>714</errorCode>"), r);
        r = soap(IP2, "DeletePortMappingRange", "<NewStartPort>1</NewStartPort><NewEndPort>65535</NewEndPort>"
                + "<NewProtocol>TCP</NewProtocol><NewManage>0</NewManage>");
        assertTrue(r.startsWith("HTTP/1.1 200"), r);
        assertNull(mappingAt(IpProtocol.TCP, reserved));
    }

    @Test
    void mappingsOnlyForTheRequestersAddress() {
        String r = soap(IP1, "AddPortMapping", add("18080", "TCP", "8080", "10.73.0.99", "60"));
        assertTrue(r.contains("<errorCode>606</errorCode>"), r);
        assertNull(mappingAt(IpProtocol.TCP, 18080));
        assertTrue(soap(IP1, "AddPortMapping", add("0", "TCP", "8080", HOST, "60")).contains("<errorCode>716</errorCode>"));
        assertTrue(soap(IP1, "AddPortMapping", add("1", "SCTP", "8080", HOST, "60")).contains("<errorCode>402</errorCode>"));
        assertTrue(soap(IP1, "AddPortMapping", add("x", "TCP", "8080", HOST, "60")).contains("<errorCode>402</errorCode>"));
        String remote = add("18080", "TCP", "8080", HOST, "60").replace("<NewRemoteHost></NewRemoteHost>",
                "<NewRemoteHost>203.0.113.9</NewRemoteHost>");
        assertTrue(soap(IP1, "AddPortMapping", remote).contains("<errorCode>726</errorCode>"));
        assertEquals(0, nat.engine().mappings().size());
        assertTrue(pc.counters().get(PortControlCounter.SOAP_ERROR) >= 5);
    }

    @Test
    void hostileBodiesAreRefusedAndCounted() throws Exception {
        Path secret = Files.createTempFile("portctl-secret", ".txt");
        Files.writeString(secret, "TOP-SECRET-CONTENT");
        try {
            // XXE: a DOCTYPE with an external entity used in an argument
            String xxe = "<?xml version=\"1.0\"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM \"file://" + secret + "\">]>"
                    + "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
                    + "<u:AddPortMapping xmlns:u=\"" + IP1 + "\">"
                    + add("18080", "TCP", "8080", HOST, "60").replace("d&amp;x", "&x;")
                    + "</u:AddPortMapping></s:Body></s:Envelope>";
            String r = post("/ctl/IPConn", IP1 + "#AddPortMapping", xxe);
            assertTrue(r.startsWith("HTTP/1.1 500") && r.contains("<errorCode>401</errorCode>"), r);
            assertFalse(r.contains("TOP-SECRET"), r);
            assertNull(mappingAt(IpProtocol.TCP, 18080));
        } finally {
            Files.deleteIfExists(secret);
        }
        // entity expansion ("billion laughs")
        String lol = "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">"
                + "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">]><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"
                + "<s:Body><u:GetExternalIPAddress xmlns:u=\"" + IP1 + "\">&c;</u:GetExternalIPAddress></s:Body></s:Envelope>";
        assertTrue(post("/ctl/IPConn", IP1 + "#GetExternalIPAddress", lol).contains("<errorCode>401</errorCode>"));
        // not XML, truncated XML, not SOAP
        assertTrue(post("/ctl/IPConn", "", "hello").contains("<errorCode>401</errorCode>"));
        assertTrue(post("/ctl/IPConn", "", "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>")
                .contains("<errorCode>401</errorCode>"));
        assertTrue(post("/ctl/IPConn", "", "<a/>").contains("<errorCode>401</errorCode>"));
        assertEquals(5, pc.counters().get(PortControlCounter.SOAP_MALFORMED));
        // SOAPAction naming another action than the body
        assertTrue(post("/ctl/IPConn", IP1 + "#DeletePortMapping", "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"
                + "<s:Body><u:GetExternalIPAddress xmlns:u=\"" + IP1 + "\"/></s:Body></s:Envelope>").contains("<errorCode>401</errorCode>"));
        // an IP action sent to the CIF control URL
        assertTrue(post("/ctl/CmnIfCfg", "", "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"
                + "<s:Body><u:AddPortMapping xmlns:u=\"" + IP1 + "\">" + add("18080", "TCP", "8080", HOST, "60")
                + "</u:AddPortMapping></s:Body></s:Envelope>").contains("<errorCode>401</errorCode>"));
        assertNull(mappingAt(IpProtocol.TCP, 18080));
        // above the bound: 413 and closed
        String huge = "<s:Envelope>" + "x".repeat(5000) + "</s:Envelope>";
        String r = post("/ctl/IPConn", "", huge);
        assertTrue(r.startsWith("HTTP/1.1 413"), r);
        assertEquals(1, pc.counters().get(PortControlCounter.SOAP_OVERSIZED));
        assertFalse(ch.isOpen());
    }

    private ByteBuf ask(ByteBuf req, int src, PortContext ctx) {
        try {
            return pc.pcpServer().handle(req, src, ctx, ch.alloc());
        } finally {
            req.release();
        }
    }

    /** UPnP, NAT-PMP, PCP and the NAT's own forwards are one table. */
    @Test
    void allThreeShareTheNatsForwardTable() {
        assertTrue(soap(IP1, "AddPortMapping", add("18080", "TCP", "8080", HOST, "3600")).startsWith("HTTP/1.1 200"));
        PortContext ctx = new PortContext("lan", nat.namespace("lan").getNow());
        // NAT-PMP from another host suggesting the same port gets another one
        ByteBuf r = ask(PcpServerTest.pmpMap(2, 8080, 18080, 60), Ip4.parse("10.73.0.3"), ctx);
        int other = r.getUnsignedShort(10);
        assertNotEquals(18080, other);
        r.release();
        // NAT-PMP from the owner for the same internal port: the UPnP lease, renewed
        r = ask(PcpServerTest.pmpMap(2, 8080, 0, 60), Ip4.parse(HOST), ctx);
        assertEquals(18080, r.getUnsignedShort(10));
        r.release();
        assertEquals(1, pc.counters().get(PortControlCounter.LEASE_RENEWED));
        // a forward set by the NAT's owner blocks the port for all three
        nat.addPortForward("lan", IpProtocol.TCP, 18090, "10.73.0.9", 22);
        assertTrue(soap(IP1, "AddPortMapping", add("18090", "TCP", "8090", HOST, "60")).contains("<errorCode>718</errorCode>"));
        r = ask(PcpServerTest.pcpMap(60, Ip4.parse(HOST), (byte) 1, IpProtocol.TCP, 8090, 18090, 0)
                .writeByte(PcpServer.OPT_PREFER_FAILURE).writeByte(0).writeShort(0), Ip4.parse(HOST), ctx);
        assertEquals(PcpServer.CANNOT_PROVIDE_EXTERNAL, r.getUnsignedByte(3));
        r.release();
        // UPnP lists the NAT-PMP lease of the other host too
        String list = soap(IP1, "GetGenericPortMappingEntry", "<NewPortMappingIndex>1</NewPortMappingIndex>");
        assertTrue(list.contains("<NewExternalPort>" + other + "</NewExternalPort>"), list);
    }

    /**
     * RFC 6886 §3.3's rule on UPnP: the host already sends from TCP 8080, so AddPortMapping for its existing
     * external port (or AddAnyPortMapping) returns that mapping, opened; another exact port is 729.
     */
    @Test
    void addPortMappingOfAPortTheHostSendsFromOpensTheExistingMapping() {
        int host = Ip4.parse(HOST);
        int ns = nat.namespace("lan").getNow();
        int port = nat.engine().addPort(ns);
        nat.addPortForward("lan", IpProtocol.TCP, 8080, "10.73.0.9", 22).syncUninterruptibly();
        ByteBuf syn = PcpServerTest.tcpSyn(host, 8080, Ip4.parse("198.51.100.20"), 443);
        assertEquals(dev.pktkit.nat.NatEngine.TO_OUTSIDE, nat.engine().outbound(syn, port));
        syn.release();
        NatMapping m = nat.engine().mappingOf(ns, IpProtocol.TCP, host, 8080);
        int ext = m.outsidePort();
        assertNotEquals(8080, ext);

        String r = soap(IP1, "AddPortMapping", add(Integer.toString(ext == 65535 ? 1024 : ext + 1), "TCP", "8080",
                HOST, "600"));
        assertTrue(r.contains("<errorCode>729</errorCode>"), r);
        assertFalse(nat.engine().isOpened(ns, IpProtocol.TCP, host, 8080));

        r = soap(IP2, "AddAnyPortMapping", add("0", "TCP", "8080", HOST, "600"));
        assertTrue(r.startsWith("HTTP/1.1 200"), r);
        assertTrue(r.contains("<NewReservedPort>" + ext + "</NewReservedPort>"), r);
        assertTrue(nat.engine().isOpened(ns, IpProtocol.TCP, host, 8080));
        // an outside SYN from anyone now reaches the host
        syn = PcpServerTest.tcpSyn(Ip4.parse("198.51.100.30"), 7000, Ip4.parse("198.51.100.1"), ext);
        assertEquals(port, nat.engine().inbound(syn));
        assertEquals(8080, syn.getUnsignedShort(22));
        syn.release();
        // AddPortMapping for the same external port is the owner's renewal; delete closes it
        r = soap(IP1, "AddPortMapping", add(Integer.toString(ext), "TCP", "8080", HOST, "600"));
        assertTrue(r.startsWith("HTTP/1.1 200"), r);
        r = soap(IP1, "DeletePortMapping", "<NewRemoteHost></NewRemoteHost><NewExternalPort>" + ext
                + "</NewExternalPort><NewProtocol>TCP</NewProtocol>");
        assertTrue(r.startsWith("HTTP/1.1 200"), r);
        assertFalse(nat.engine().isOpened(ns, IpProtocol.TCP, host, 8080));
        assertEquals(m, nat.engine().mappingOf(ns, IpProtocol.TCP, host, 8080), "the NAT's mapping stays");
    }

    /** AddPortMapping for exactly the existing external port, on a fresh lease. */
    @Test
    void addPortMappingForTheExistingExternalPortIsGranted() {
        int host = Ip4.parse(HOST);
        int ns = nat.namespace("lan").getNow();
        int port = nat.engine().addPort(ns);
        ByteBuf u = PcpServerTest.udp(host, 9000, Ip4.parse("198.51.100.20"), 53);
        assertEquals(dev.pktkit.nat.NatEngine.TO_OUTSIDE, nat.engine().outbound(u, port));
        u.release();
        int ext = nat.engine().mappingOf(ns, IpProtocol.UDP, host, 9000).outsidePort();
        String r = soap(IP1, "AddPortMapping", add(Integer.toString(ext), "UDP", "9000", HOST, "600"));
        assertTrue(r.startsWith("HTTP/1.1 200"), r);
        u = PcpServerTest.udp(Ip4.parse("198.51.100.30"), 7000, Ip4.parse("198.51.100.1"), ext);
        assertEquals(port, nat.engine().inbound(u));
        u.release();
    }
}
