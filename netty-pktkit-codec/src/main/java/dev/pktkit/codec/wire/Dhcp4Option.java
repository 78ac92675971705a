package dev.pktkit.codec.wire;

/**
 * DHCPv4 option codes: every option RFC 2132 defines, plus Relay Agent Information (RFC 3046) and Classless
 * Static Route (RFC 3442). Read and write them with {@link Dhcp4}.
 */
public final class Dhcp4Option {
    private Dhcp4Option() {
    }

    // RFC 2132 §3: vendor extensions
    /** Pad: one zero octet, no length. */
    public static final int PAD = 0;
    /** Subnet mask, 4 octets. */
    public static final int SUBNET_MASK = 1;
    /** Time offset from UTC in seconds, signed 32-bit. */
    public static final int TIME_OFFSET = 2;
    /** Routers on the client's subnet, list of addresses, most preferred first. */
    public static final int ROUTER = 3;
    /** RFC 868 time servers, list of addresses. */
    public static final int TIME_SERVER = 4;
    /** IEN 116 name servers, list of addresses. */
    public static final int NAME_SERVER = 5;
    /** DNS servers, list of addresses. */
    public static final int DOMAIN_NAME_SERVER = 6;
    /** MIT-LCS UDP log servers, list of addresses. */
    public static final int LOG_SERVER = 7;
    /** RFC 865 cookie servers, list of addresses. */
    public static final int COOKIE_SERVER = 8;
    /** RFC 1179 line printer servers, list of addresses. */
    public static final int LPR_SERVER = 9;
    /** Imagen Impress servers, list of addresses. */
    public static final int IMPRESS_SERVER = 10;
    /** RFC 887 resource location servers, list of addresses. */
    public static final int RESOURCE_LOCATION_SERVER = 11;
    /** Client host name, NVT ASCII. */
    public static final int HOST_NAME = 12;
    /** Boot file size in 512-octet blocks, 16-bit. */
    public static final int BOOT_FILE_SIZE = 13;
    /** Merit dump file path, NVT ASCII. */
    public static final int MERIT_DUMP_FILE = 14;
    /** DNS domain name, NVT ASCII. */
    public static final int DOMAIN_NAME = 15;
    /** Swap server address. */
    public static final int SWAP_SERVER = 16;
    /** Root disk path, NVT ASCII. */
    public static final int ROOT_PATH = 17;
    /** Extensions path (a TFTP file holding more options), NVT ASCII. */
    public static final int EXTENSIONS_PATH = 18;

    // RFC 2132 §4: IP layer parameters per host
    /** IP forwarding enable, 1 octet boolean. */
    public static final int IP_FORWARDING = 19;
    /** Non-local source routing enable, 1 octet boolean. */
    public static final int NON_LOCAL_SOURCE_ROUTING = 20;
    /** Policy filter, list of address/mask pairs. */
    public static final int POLICY_FILTER = 21;
    /** Maximum datagram reassembly size, 16-bit, at least 576. */
    public static final int MAX_DATAGRAM_REASSEMBLY_SIZE = 22;
    /** Default IP time-to-live, 1 octet. */
    public static final int DEFAULT_IP_TTL = 23;
    /** Path MTU aging timeout in seconds, 32-bit. */
    public static final int PATH_MTU_AGING_TIMEOUT = 24;
    /** Path MTU plateau table, list of 16-bit sizes. */
    public static final int PATH_MTU_PLATEAU_TABLE = 25;

    // RFC 2132 §5: IP layer parameters per interface
    /** Interface MTU, 16-bit, at least 68. */
    public static final int INTERFACE_MTU = 26;
    /** All subnets are local, 1 octet boolean. */
    public static final int ALL_SUBNETS_ARE_LOCAL = 27;
    /** Broadcast address. */
    public static final int BROADCAST_ADDRESS = 28;
    /** Perform mask discovery, 1 octet boolean. */
    public static final int PERFORM_MASK_DISCOVERY = 29;
    /** Mask supplier, 1 octet boolean. */
    public static final int MASK_SUPPLIER = 30;
    /** Perform router discovery, 1 octet boolean. */
    public static final int PERFORM_ROUTER_DISCOVERY = 31;
    /** Router solicitation address. */
    public static final int ROUTER_SOLICITATION_ADDRESS = 32;
    /** Static routes (classful), list of destination/router pairs. */
    public static final int STATIC_ROUTE = 33;

    // RFC 2132 §6: link layer parameters per interface
    /** Trailer encapsulation, 1 octet boolean. */
    public static final int TRAILER_ENCAPSULATION = 34;
    /** ARP cache timeout in seconds, 32-bit. */
    public static final int ARP_CACHE_TIMEOUT = 35;
    /** Ethernet encapsulation (0: Ethernet II, 1: 802.3), 1 octet. */
    public static final int ETHERNET_ENCAPSULATION = 36;

    // RFC 2132 §7: TCP parameters
    /** TCP default TTL, 1 octet. */
    public static final int TCP_DEFAULT_TTL = 37;
    /** TCP keepalive interval in seconds, 32-bit. */
    public static final int TCP_KEEPALIVE_INTERVAL = 38;
    /** TCP keepalive garbage octet, 1 octet boolean. */
    public static final int TCP_KEEPALIVE_GARBAGE = 39;

    // RFC 2132 §8: application and service parameters
    /** NIS domain, NVT ASCII. */
    public static final int NIS_DOMAIN = 40;
    /** NIS servers, list of addresses. */
    public static final int NIS_SERVERS = 41;
    /** NTP servers, list of addresses. */
    public static final int NTP_SERVERS = 42;
    /** Vendor-specific information, opaque (encapsulated options). */
    public static final int VENDOR_SPECIFIC = 43;
    /** NetBIOS over TCP/IP name servers, list of addresses. */
    public static final int NETBIOS_NAME_SERVERS = 44;
    /** NetBIOS over TCP/IP datagram distribution servers, list of addresses. */
    public static final int NETBIOS_DD_SERVERS = 45;
    /** NetBIOS over TCP/IP node type, 1 octet. */
    public static final int NETBIOS_NODE_TYPE = 46;
    /** NetBIOS over TCP/IP scope, opaque. */
    public static final int NETBIOS_SCOPE = 47;
    /** X Window System font servers, list of addresses. */
    public static final int X_FONT_SERVERS = 48;
    /** X Window System display managers, list of addresses. */
    public static final int X_DISPLAY_MANAGERS = 49;
    /** NIS+ domain, NVT ASCII. */
    public static final int NISPLUS_DOMAIN = 64;
    /** NIS+ servers, list of addresses. */
    public static final int NISPLUS_SERVERS = 65;
    /** Mobile IP home agents, list of addresses (possibly empty). */
    public static final int MOBILE_IP_HOME_AGENT = 68;
    /** SMTP servers, list of addresses. */
    public static final int SMTP_SERVER = 69;
    /** POP3 servers, list of addresses. */
    public static final int POP3_SERVER = 70;
    /** NNTP servers, list of addresses. */
    public static final int NNTP_SERVER = 71;
    /** WWW servers, list of addresses. */
    public static final int WWW_SERVER = 72;
    /** Finger servers, list of addresses. */
    public static final int FINGER_SERVER = 73;
    /** IRC servers, list of addresses. */
    public static final int IRC_SERVER = 74;
    /** StreetTalk servers, list of addresses. */
    public static final int STREETTALK_SERVER = 75;
    /** StreetTalk directory assistance servers, list of addresses. */
    public static final int STDA_SERVER = 76;

    // RFC 2132 §9: DHCP extensions
    /** Requested IP address (client, DHCPDISCOVER / DHCPREQUEST). */
    public static final int REQUESTED_IP_ADDRESS = 50;
    /** IP address lease time in seconds, 32-bit unsigned ({@code 0xFFFFFFFF}: infinite). */
    public static final int LEASE_TIME = 51;
    /** Option overload: 1 = options continue in 'file', 2 = in 'sname', 3 = both. */
    public static final int OPTION_OVERLOAD = 52;
    /** DHCP message type, 1 octet ({@link Dhcp4#DISCOVER} ... {@link Dhcp4#INFORM}). */
    public static final int MESSAGE_TYPE = 53;
    /** Server identifier, an address. */
    public static final int SERVER_IDENTIFIER = 54;
    /** Parameter request list: option codes, one octet each. */
    public static final int PARAMETER_REQUEST_LIST = 55;
    /** Error message, NVT ASCII (DHCPNAK, DHCPDECLINE). */
    public static final int MESSAGE = 56;
    /** Maximum DHCP message size the client accepts, 16-bit, at least 576. */
    public static final int MAX_MESSAGE_SIZE = 57;
    /** Renewal (T1) time in seconds, 32-bit unsigned. */
    public static final int RENEWAL_TIME = 58;
    /** Rebinding (T2) time in seconds, 32-bit unsigned. */
    public static final int REBINDING_TIME = 59;
    /** Vendor class identifier, opaque (often ASCII). */
    public static final int VENDOR_CLASS_IDENTIFIER = 60;
    /** Client identifier: a type octet (1 = Ethernet) and the identifier. */
    public static final int CLIENT_IDENTIFIER = 61;
    /** TFTP server name, NVT ASCII (when 'sname' is overloaded). */
    public static final int TFTP_SERVER_NAME = 66;
    /** Boot file name, NVT ASCII (when 'file' is overloaded). */
    public static final int BOOTFILE_NAME = 67;

    // beyond RFC 2132
    /** Relay agent information (RFC 3046), sub-options. */
    public static final int RELAY_AGENT_INFORMATION = 82;
    /** Classless static routes (RFC 3442). */
    public static final int CLASSLESS_STATIC_ROUTE = 121;

    /** End: one 255 octet, no length; ends the options in its area. */
    public static final int END = 255;

    /** A short name for {@code code} ("subnet-mask", "router", ...), or the number in decimal. */
    public static String name(int code) {
        return switch (code) {
            case PAD -> "pad";
            case SUBNET_MASK -> "subnet-mask";
            case TIME_OFFSET -> "time-offset";
            case ROUTER -> "router";
            case TIME_SERVER -> "time-server";
            case NAME_SERVER -> "name-server";
            case DOMAIN_NAME_SERVER -> "dns";
            case LOG_SERVER -> "log-server";
            case COOKIE_SERVER -> "cookie-server";
            case LPR_SERVER -> "lpr-server";
            case IMPRESS_SERVER -> "impress-server";
            case RESOURCE_LOCATION_SERVER -> "rlp-server";
            case HOST_NAME -> "host-name";
            case BOOT_FILE_SIZE -> "boot-file-size";
            case MERIT_DUMP_FILE -> "merit-dump";
            case DOMAIN_NAME -> "domain-name";
            case SWAP_SERVER -> "swap-server";
            case ROOT_PATH -> "root-path";
            case EXTENSIONS_PATH -> "extensions-path";
            case IP_FORWARDING -> "ip-forwarding";
            case NON_LOCAL_SOURCE_ROUTING -> "non-local-source-routing";
            case POLICY_FILTER -> "policy-filter";
            case MAX_DATAGRAM_REASSEMBLY_SIZE -> "max-reassembly";
            case DEFAULT_IP_TTL -> "default-ttl";
            case PATH_MTU_AGING_TIMEOUT -> "mtu-aging-timeout";
            case PATH_MTU_PLATEAU_TABLE -> "mtu-plateau-table";
            case INTERFACE_MTU -> "interface-mtu";
            case ALL_SUBNETS_ARE_LOCAL -> "all-subnets-local";
            case BROADCAST_ADDRESS -> "broadcast-address";
            case PERFORM_MASK_DISCOVERY -> "mask-discovery";
            case MASK_SUPPLIER -> "mask-supplier";
            case PERFORM_ROUTER_DISCOVERY -> "router-discovery";
            case ROUTER_SOLICITATION_ADDRESS -> "router-solicitation-address";
            case STATIC_ROUTE -> "static-route";
            case TRAILER_ENCAPSULATION -> "trailer-encapsulation";
            case ARP_CACHE_TIMEOUT -> "arp-cache-timeout";
            case ETHERNET_ENCAPSULATION -> "ethernet-encapsulation";
            case TCP_DEFAULT_TTL -> "tcp-ttl";
            case TCP_KEEPALIVE_INTERVAL -> "tcp-keepalive-interval";
            case TCP_KEEPALIVE_GARBAGE -> "tcp-keepalive-garbage";
            case NIS_DOMAIN -> "nis-domain";
            case NIS_SERVERS -> "nis-servers";
            case NTP_SERVERS -> "ntp-servers";
            case VENDOR_SPECIFIC -> "vendor-specific";
            case NETBIOS_NAME_SERVERS -> "netbios-name-servers";
            case NETBIOS_DD_SERVERS -> "netbios-dd-servers";
            case NETBIOS_NODE_TYPE -> "netbios-node-type";
            case NETBIOS_SCOPE -> "netbios-scope";
            case X_FONT_SERVERS -> "x-font-servers";
            case X_DISPLAY_MANAGERS -> "x-display-managers";
            case REQUESTED_IP_ADDRESS -> "requested-ip";
            case LEASE_TIME -> "lease-time";
            case OPTION_OVERLOAD -> "overload";
            case MESSAGE_TYPE -> "message-type";
            case SERVER_IDENTIFIER -> "server-id";
            case PARAMETER_REQUEST_LIST -> "parameter-request-list";
            case MESSAGE -> "message";
            case MAX_MESSAGE_SIZE -> "max-message-size";
            case RENEWAL_TIME -> "renewal-time";
            case REBINDING_TIME -> "rebinding-time";
            case VENDOR_CLASS_IDENTIFIER -> "vendor-class";
            case CLIENT_IDENTIFIER -> "client-id";
            case NISPLUS_DOMAIN -> "nisplus-domain";
            case NISPLUS_SERVERS -> "nisplus-servers";
            case TFTP_SERVER_NAME -> "tftp-server-name";
            case BOOTFILE_NAME -> "bootfile-name";
            case MOBILE_IP_HOME_AGENT -> "mobile-ip-home-agent";
            case SMTP_SERVER -> "smtp-server";
            case POP3_SERVER -> "pop3-server";
            case NNTP_SERVER -> "nntp-server";
            case WWW_SERVER -> "www-server";
            case FINGER_SERVER -> "finger-server";
            case IRC_SERVER -> "irc-server";
            case STREETTALK_SERVER -> "streettalk-server";
            case STDA_SERVER -> "stda-server";
            case RELAY_AGENT_INFORMATION -> "relay-agent-info";
            case CLASSLESS_STATIC_ROUTE -> "classless-static-route";
            case END -> "end";
            default -> Integer.toString(code);
        };
    }
}
