package dev.pktkit.nat.portcontrol;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The UPnP documents of the IGD: the root description (InternetGatewayDevice:2 → WANDevice:2 →
 * WANConnectionDevice:2) and the service descriptions (SCPD) of WANIPConnection:2 and WANCommonInterfaceConfig:1,
 * generated from the action tables below (the actions {@link IgdHttpHandler} implements, and no others).
 */
final class IgdDescriptions {
    static final String ROOT_PATH = "/rootDesc.xml";
    static final String IP_SCPD = "/WANIPCn.xml";
    static final String CIF_SCPD = "/WANCfg.xml";
    static final String IP_CONTROL = "/ctl/IPConn";
    static final String CIF_CONTROL = "/ctl/CmnIfCfg";
    static final String IGD = "urn:schemas-upnp-org:device:InternetGatewayDevice:";
    static final String WAN_DEVICE = "urn:schemas-upnp-org:device:WANDevice:";
    static final String WAN_CONN_DEVICE = "urn:schemas-upnp-org:device:WANConnectionDevice:";
    static final String WAN_IP = "urn:schemas-upnp-org:service:WANIPConnection:";
    static final String WAN_CIF = "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:";
    static final int IGD_VERSION = 2;
    static final int WAN_IP_VERSION = 2;
    static final int CIF_VERSION = 1;

    record Action(String name, List<String> in, List<String> out) {
    }

    static final List<Action> IP_ACTIONS = List.of(
            new Action("GetStatusInfo", List.of(), List.of("NewConnectionStatus", "NewLastConnectionError", "NewUptime")),
            new Action("GetConnectionTypeInfo", List.of(), List.of("NewConnectionType", "NewPossibleConnectionTypes")),
            new Action("GetNATRSIPStatus", List.of(), List.of("NewRSIPAvailable", "NewNATEnabled")),
            new Action("GetExternalIPAddress", List.of(), List.of("NewExternalIPAddress")),
            new Action("GetGenericPortMappingEntry", List.of("NewPortMappingIndex"), List.of("NewRemoteHost",
                    "NewExternalPort", "NewProtocol", "NewInternalPort", "NewInternalClient", "NewEnabled",
                    "NewPortMappingDescription", "NewLeaseDuration")),
            new Action("GetSpecificPortMappingEntry", List.of("NewRemoteHost", "NewExternalPort", "NewProtocol"),
                    List.of("NewInternalPort", "NewInternalClient", "NewEnabled", "NewPortMappingDescription",
                            "NewLeaseDuration")),
            new Action("AddPortMapping", List.of("NewRemoteHost", "NewExternalPort", "NewProtocol", "NewInternalPort",
                    "NewInternalClient", "NewEnabled", "NewPortMappingDescription", "NewLeaseDuration"), List.of()),
            new Action("AddAnyPortMapping", List.of("NewRemoteHost", "NewExternalPort", "NewProtocol",
                    "NewInternalPort", "NewInternalClient", "NewEnabled", "NewPortMappingDescription",
                    "NewLeaseDuration"), List.of("NewReservedPort")),
            new Action("DeletePortMapping", List.of("NewRemoteHost", "NewExternalPort", "NewProtocol"), List.of()),
            new Action("DeletePortMappingRange", List.of("NewStartPort", "NewEndPort", "NewProtocol", "NewManage"),
                    List.of()));

    static final List<Action> CIF_ACTIONS = List.of(
            new Action("GetCommonLinkProperties", List.of(), List.of("NewWANAccessType",
                    "NewLayer1UpstreamMaxBitRate", "NewLayer1DownstreamMaxBitRate", "NewPhysicalLinkStatus")),
            new Action("GetTotalPacketsSent", List.of(), List.of("NewTotalPacketsSent")),
            new Action("GetTotalPacketsReceived", List.of(), List.of("NewTotalPacketsReceived")));

    /** Argument → (related state variable, data type). */
    private static final Map<String, String[]> VARS = new LinkedHashMap<>();

    static {
        var(new String[]{"NewConnectionStatus", "ConnectionStatus", "string"},
                new String[]{"NewLastConnectionError", "LastConnectionError", "string"},
                new String[]{"NewUptime", "Uptime", "ui4"},
                new String[]{"NewConnectionType", "ConnectionType", "string"},
                new String[]{"NewPossibleConnectionTypes", "PossibleConnectionTypes", "string"},
                new String[]{"NewRSIPAvailable", "RSIPAvailable", "boolean"},
                new String[]{"NewNATEnabled", "NATEnabled", "boolean"},
                new String[]{"NewExternalIPAddress", "ExternalIPAddress", "string"},
                new String[]{"NewPortMappingIndex", "PortMappingNumberOfEntries", "ui2"},
                new String[]{"NewRemoteHost", "RemoteHost", "string"},
                new String[]{"NewExternalPort", "ExternalPort", "ui2"},
                new String[]{"NewReservedPort", "ExternalPort", "ui2"},
                new String[]{"NewStartPort", "ExternalPort", "ui2"},
                new String[]{"NewEndPort", "ExternalPort", "ui2"},
                new String[]{"NewProtocol", "PortMappingProtocol", "string"},
                new String[]{"NewInternalPort", "InternalPort", "ui2"},
                new String[]{"NewInternalClient", "InternalClient", "string"},
                new String[]{"NewEnabled", "PortMappingEnabled", "boolean"},
                new String[]{"NewPortMappingDescription", "PortMappingDescription", "string"},
                new String[]{"NewLeaseDuration", "PortMappingLeaseDuration", "ui4"},
                new String[]{"NewManage", "A_ARG_TYPE_Manage", "boolean"},
                new String[]{"NewWANAccessType", "WANAccessType", "string"},
                new String[]{"NewLayer1UpstreamMaxBitRate", "Layer1UpstreamMaxBitRate", "ui4"},
                new String[]{"NewLayer1DownstreamMaxBitRate", "Layer1DownstreamMaxBitRate", "ui4"},
                new String[]{"NewPhysicalLinkStatus", "PhysicalLinkStatus", "string"},
                new String[]{"NewTotalPacketsSent", "TotalPacketsSent", "ui4"},
                new String[]{"NewTotalPacketsReceived", "TotalPacketsReceived", "ui4"});
    }

    private static void var(String[]... rows) {
        for (String[] r : rows) {
            VARS.put(r[0], new String[]{r[1], r[2]});
        }
    }

    private final String friendlyName;
    private final UUID root;
    private final UUID wan;
    private final UUID conn;
    final byte[] rootXml;
    final byte[] ipScpd;
    final byte[] cifScpd;

    IgdDescriptions(String friendlyName, UUID root) {
        this.friendlyName = friendlyName;
        this.root = root;
        this.wan = UUID.nameUUIDFromBytes((root + "/wan").getBytes(StandardCharsets.US_ASCII));
        this.conn = UUID.nameUUIDFromBytes((root + "/conn").getBytes(StandardCharsets.US_ASCII));
        this.rootXml = rootDescription().getBytes(StandardCharsets.UTF_8);
        this.ipScpd = scpd(IP_ACTIONS).getBytes(StandardCharsets.UTF_8);
        this.cifScpd = scpd(CIF_ACTIONS).getBytes(StandardCharsets.UTF_8);
    }

    UUID root() {
        return root;
    }

    /** The UUID of the device that has {@code type} (a device or service type without version). */
    UUID deviceOf(String type) {
        if (type.startsWith(WAN_DEVICE) || type.startsWith(WAN_CIF)) {
            return wan;
        }
        if (type.startsWith(WAN_CONN_DEVICE) || type.startsWith(WAN_IP)) {
            return conn;
        }
        return root;
    }

    /** Types answered in SSDP, with the version offered. */
    static final Map<String, Integer> SEARCH_TYPES = Map.of(IGD, IGD_VERSION, WAN_DEVICE, 2, WAN_CONN_DEVICE, 2,
            WAN_IP, WAN_IP_VERSION, WAN_CIF, CIF_VERSION);

    private String rootDescription() {
        return "<?xml version=\"1.0\"?>\r\n"
                + "<root xmlns=\"urn:schemas-upnp-org:device-1-0\" configId=\"1\">"
                + "<specVersion><major>1</major><minor>1</minor></specVersion>"
                + "<device><deviceType>" + IGD + IGD_VERSION + "</deviceType>"
                + "<friendlyName>" + escape(friendlyName) + "</friendlyName>"
                + "<manufacturer>netty-pktkit</manufacturer><modelName>netty-pktkit NAT</modelName>"
                + "<UDN>uuid:" + root + "</UDN>"
                + "<deviceList><device><deviceType>" + WAN_DEVICE + "2</deviceType>"
                + "<friendlyName>WAN Device</friendlyName><manufacturer>netty-pktkit</manufacturer>"
                + "<modelName>WAN Device</modelName><UDN>uuid:" + wan + "</UDN>"
                + "<serviceList><service><serviceType>" + WAN_CIF + CIF_VERSION + "</serviceType>"
                + "<serviceId>urn:upnp-org:serviceId:WANCommonIFC1</serviceId>"
                + "<SCPDURL>" + CIF_SCPD + "</SCPDURL><controlURL>" + CIF_CONTROL + "</controlURL>"
                + "<eventSubURL>/evt/CmnIfCfg</eventSubURL></service></serviceList>"
                + "<deviceList><device><deviceType>" + WAN_CONN_DEVICE + "2</deviceType>"
                + "<friendlyName>WAN Connection Device</friendlyName><manufacturer>netty-pktkit</manufacturer>"
                + "<modelName>WAN Connection Device</modelName><UDN>uuid:" + conn + "</UDN>"
                + "<serviceList><service><serviceType>" + WAN_IP + WAN_IP_VERSION + "</serviceType>"
                + "<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>"
                + "<SCPDURL>" + IP_SCPD + "</SCPDURL><controlURL>" + IP_CONTROL + "</controlURL>"
                + "<eventSubURL>/evt/IPConn</eventSubURL></service></serviceList>"
                + "</device></deviceList></device></deviceList></device></root>\r\n";
    }

    private static String scpd(List<Action> actions) {
        StringBuilder sb = new StringBuilder("<?xml version=\"1.0\"?>\r\n<scpd xmlns=\"urn:schemas-upnp-org:service-1-0\">"
                + "<specVersion><major>1</major><minor>0</minor></specVersion><actionList>");
        Map<String, String> used = new LinkedHashMap<>();
        for (Action a : actions) {
            sb.append("<action><name>").append(a.name()).append("</name><argumentList>");
            for (String in : a.in()) {
                arg(sb, in, "in", used);
            }
            for (String out : a.out()) {
                arg(sb, out, "out", used);
            }
            sb.append("</argumentList></action>");
        }
        sb.append("</actionList><serviceStateTable>");
        used.forEach((name, type) -> sb.append("<stateVariable sendEvents=\"no\"><name>").append(name)
                .append("</name><dataType>").append(type).append("</dataType></stateVariable>"));
        return sb.append("</serviceStateTable></scpd>\r\n").toString();
    }

    private static void arg(StringBuilder sb, String arg, String direction, Map<String, String> used) {
        String[] v = VARS.get(arg);
        used.put(v[0], v[1]);
        sb.append("<argument><name>").append(arg).append("</name><direction>").append(direction)
                .append("</direction><relatedStateVariable>").append(v[0]).append("</relatedStateVariable></argument>");
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&apos;");
                default -> {
                    if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }
}
