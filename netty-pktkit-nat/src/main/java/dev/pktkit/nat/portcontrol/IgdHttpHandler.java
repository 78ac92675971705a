package dev.pktkit.nat.portcontrol;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The UPnP IGD's HTTP side, one instance per connection: {@code GET} of the description documents, {@code POST}
 * of SOAP actions to WANIPConnection (v1 and v2 action sets, answered in the version the caller used) and
 * WANCommonInterfaceConfig. Actions run on the NAT's loop against the {@link LeaseTable}.
 *
 * <p>Mappings are for the requesting host's own address unless {@link PortControlConfig#allowThirdParty()}
 * (else UPnP error 606). Not done: eventing ({@code SUBSCRIBE} gets 405), {@code GetListOfPortMappings},
 * the connection-management actions ({@code SetConnectionType}, {@code RequestConnection},
 * {@code ForceTermination}: 401 Invalid Action), a remote-host filter (726), disabled entries (402).
 */
final class IgdHttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final PortControl control;
    private final PortContext pctx;
    private final int requester;
    private final PortControlCounters counters;

    IgdHttpHandler(PortControl control, PortContext pctx, int requester) {
        this.control = control;
        this.pctx = pctx;
        this.requester = requester;
        this.counters = control.counters();
    }

    /** Netty's aggregator, counting requests above the bound (it answers 413 and closes). */
    static final class Aggregator extends HttpObjectAggregator {
        private final PortControlCounters counters;

        Aggregator(int maxContentLength, PortControlCounters counters) {
            super(maxContentLength);
            this.counters = counters;
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) throws Exception {
            counters.add(PortControlCounter.SOAP_OVERSIZED);
            // always close (Netty's own answer keeps a keep-alive connection open and skips the body)
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, Unpooled.EMPTY_BUFFER);
            HttpUtil.setContentLength(r, 0);
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** A UPnP error for a SOAP fault. */
    static final class UpnpError extends Exception {
        final int code;

        UpnpError(int code, String description) {
            super(description, null, false, false);
            this.code = code;
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (!req.decoderResult().isSuccess()) {
            counters.add(PortControlCounter.HTTP_REFUSED);
            send(ctx, plain(HttpResponseStatus.BAD_REQUEST), false);
            return;
        }
        String path = req.uri();
        int q = path.indexOf('?');
        if (q >= 0) {
            path = path.substring(0, q);
        }
        IgdDescriptions d = control.descriptions();
        if (req.method().equals(HttpMethod.GET)) {
            byte[] doc = switch (path) {
                case IgdDescriptions.ROOT_PATH -> d.rootXml;
                case IgdDescriptions.IP_SCPD -> d.ipScpd;
                case IgdDescriptions.CIF_SCPD -> d.cifScpd;
                default -> null;
            };
            if (doc == null) {
                counters.add(PortControlCounter.HTTP_REFUSED);
                send(ctx, plain(HttpResponseStatus.NOT_FOUND), keepAlive);
                return;
            }
            counters.add(PortControlCounter.HTTP_DESCRIPTIONS);
            send(ctx, xml(HttpResponseStatus.OK, doc), keepAlive);
            return;
        }
        if (!req.method().equals(HttpMethod.POST)) {
            counters.add(PortControlCounter.HTTP_REFUSED);
            send(ctx, plain(HttpResponseStatus.METHOD_NOT_ALLOWED), keepAlive);
            return;
        }
        String prefix = switch (path) {
            case IgdDescriptions.IP_CONTROL -> IgdDescriptions.WAN_IP;
            case IgdDescriptions.CIF_CONTROL -> IgdDescriptions.WAN_CIF;
            default -> null;
        };
        if (prefix == null) {
            counters.add(PortControlCounter.HTTP_REFUSED);
            send(ctx, plain(HttpResponseStatus.NOT_FOUND), keepAlive);
            return;
        }
        SoapRequest soap;
        try {
            soap = SoapRequest.parse(ByteBufUtil.getBytes(req.content()));
            checkService(soap, prefix, req.headers().get("SOAPACTION"));
        } catch (SoapRequest.Malformed e) {
            counters.add(PortControlCounter.SOAP_MALFORMED);
            send(ctx, fault(new UpnpError(401, "Invalid Action")), keepAlive);
            return;
        } catch (UpnpError e) {
            counters.add(PortControlCounter.SOAP_ERROR);
            send(ctx, fault(e), keepAlive);
            return;
        }
        SoapRequest call = soap;
        control.onNat(() -> {
            try {
                return ok(call, invoke(call));
            } catch (UpnpError e) {
                counters.add(PortControlCounter.SOAP_ERROR);
                return fault(e);
            }
        }).addListener(f -> {
            FullHttpResponse resp;
            if (f.isSuccess()) {
                resp = (FullHttpResponse) f.getNow();
            } else {
                counters.add(PortControlCounter.SOAP_ERROR);
                resp = fault(new UpnpError(501, "Action Failed"));
            }
            if (ctx.executor().inEventLoop()) {
                send(ctx, resp, keepAlive);
            } else {
                ctx.executor().execute(() -> send(ctx, resp, keepAlive));
            }
        });
    }

    private static void checkService(SoapRequest soap, String prefix, String soapAction) throws UpnpError {
        String st = soap.serviceType();
        int max = prefix.equals(IgdDescriptions.WAN_IP) ? IgdDescriptions.WAN_IP_VERSION : IgdDescriptions.CIF_VERSION;
        int v;
        try {
            v = st.startsWith(prefix) ? Integer.parseInt(st.substring(prefix.length())) : -1;
        } catch (NumberFormatException e) {
            v = -1;
        }
        if (v < 1 || v > max) {
            throw new UpnpError(401, "Invalid Action");
        }
        if (soapAction != null) {
            String a = soapAction.replace("\"", "").trim();
            if (!a.isEmpty() && !a.equals(st + "#" + soap.action())) {
                throw new UpnpError(401, "Invalid Action");
            }
        }
    }

    /** Runs one action on the NAT's loop; the result is the out arguments in order. */
    private Map<String, String> invoke(SoapRequest call) throws UpnpError {
        LeaseTable leases = control.leaseTable();
        Map<String, String> a = call.args();
        Map<String, String> out = new LinkedHashMap<>();
        boolean v2 = call.serviceType().endsWith(":2");
        boolean cif = call.serviceType().startsWith(IgdDescriptions.WAN_CIF);
        if ((cif ? IgdDescriptions.CIF_ACTIONS : IgdDescriptions.IP_ACTIONS).stream()
                .noneMatch(x -> x.name().equals(call.action()))) {
            throw new UpnpError(401, "Invalid Action");
        }
        switch (call.action()) {
            case "GetStatusInfo" -> {
                out.put("NewConnectionStatus", "Connected");
                out.put("NewLastConnectionError", "ERROR_NONE");
                out.put("NewUptime", Integer.toString(control.epochSeconds()));
            }
            case "GetConnectionTypeInfo" -> {
                out.put("NewConnectionType", "IP_Routed");
                out.put("NewPossibleConnectionTypes", "IP_Routed");
            }
            case "GetNATRSIPStatus" -> {
                out.put("NewRSIPAvailable", "0");
                out.put("NewNATEnabled", "1");
            }
            case "GetExternalIPAddress" -> out.put("NewExternalIPAddress", Ip4.format(leases.outsideAddress()));
            case "GetGenericPortMappingEntry" -> {
                int index = number(a, "NewPortMappingIndex", 0, 65535);
                List<Lease> list = leases.inNamespace(pctx.namespace());
                if (index >= list.size()) {
                    throw new UpnpError(713, "SpecifiedArrayIndexInvalid");
                }
                Lease l = list.get(index);
                out.put("NewRemoteHost", "");
                out.put("NewExternalPort", Integer.toString(l.externalPort));
                out.put("NewProtocol", LeaseTable.protocolName(l.protocol));
                entry(out, l, leases);
            }
            case "GetSpecificPortMappingEntry" -> {
                remoteHostWildcard(a);
                Lease l = leases.atExternal(protocol(a), number(a, "NewExternalPort", 1, 65535));
                if (l == null || l.namespace != pctx.namespace()) {
                    throw new UpnpError(714, "NoSuchEntryInArray");
                }
                entry(out, l, leases);
            }
            case "AddPortMapping", "AddAnyPortMapping" -> {
                boolean any = call.action().equals("AddAnyPortMapping");
                if (any && !v2) {
                    throw new UpnpError(401, "Invalid Action");
                }
                remoteHostWildcard(a);
                int ext = number(a, "NewExternalPort", 0, 65535);
                if (ext == 0 && !any) {
                    throw new UpnpError(716, "WildCardNotPermittedInExtPort");
                }
                int proto = protocol(a);
                int inPort = number(a, "NewInternalPort", 0, 65535);
                if (inPort == 0) {
                    throw new UpnpError(v2 ? 732 : 402, v2 ? "WildCardNotPermittedInIntPort" : "Invalid Args");
                }
                int client;
                try {
                    client = Ip4.parse(a.getOrDefault("NewInternalClient", ""));
                } catch (IllegalArgumentException e) {
                    throw new UpnpError(402, "Invalid Args");
                }
                if (client != requester && !control.config().allowThirdParty()) {
                    throw new UpnpError(606, "Action not authorized");
                }
                String enabled = a.getOrDefault("NewEnabled", "1");
                if (!enabled.equals("1") && !enabled.equalsIgnoreCase("true")) {
                    throw new UpnpError(402, "Invalid Args");
                }
                long lease = number(a, "NewLeaseDuration", 0, 0xFFFF_FFFFL);
                if (lease == 0) {
                    lease = control.config().maxLeaseSeconds();
                }
                String description = a.getOrDefault("NewPortMappingDescription", "");
                if (description.length() > 256) {
                    description = description.substring(0, 256);
                }
                Lease owner = leases.atExternal(proto, ext);
                if (owner != null && (owner.namespace != pctx.namespace() || owner.internalAddress != client
                        || owner.internalPort != inPort) && !any) {
                    throw new UpnpError(718, "ConflictInMappingEntry");
                }
                LeaseTable.Result r = leases.map(pctx.namespace(), proto, client, inPort, ext, !any, lease,
                        Lease.Source.UPNP, null, description);
                switch (r.status()) {
                    case CREATED, RENEWED -> {
                        if (any) {
                            out.put("NewReservedPort", Integer.toString(r.lease().externalPort));
                        }
                    }
                    case NO_RESOURCES -> throw new UpnpError(728, "NoPortMapsAvailable");
                    case INSIDE_MAPPED -> throw new UpnpError(729, "ConflictWithOtherMechanisms");
                    default -> throw new UpnpError(718, "ConflictInMappingEntry");
                }
            }
            case "DeletePortMapping" -> {
                remoteHostWildcard(a);
                int proto = protocol(a);
                int ext = number(a, "NewExternalPort", 1, 65535);
                LeaseTable.Result r = leases.delete(pctx.namespace(), proto, ext,
                        control.config().allowThirdParty() ? 0 : requester);
                if (r.status() == LeaseTable.Status.NO_SUCH) {
                    throw new UpnpError(714, "NoSuchEntryInArray");
                }
                if (r.status() == LeaseTable.Status.NOT_AUTHORIZED) {
                    throw new UpnpError(606, "Action not authorized");
                }
            }
            case "DeletePortMappingRange" -> {
                if (!v2) {
                    throw new UpnpError(401, "Invalid Action");
                }
                int start = number(a, "NewStartPort", 0, 65535);
                int end = number(a, "NewEndPort", 0, 65535);
                int proto = protocol(a);
                String manage = a.getOrDefault("NewManage", "0");
                boolean all = (manage.equals("1") || manage.equalsIgnoreCase("true"))
                        && control.config().allowThirdParty();
                if (start > end) {
                    throw new UpnpError(733, "InconsistentParameters");
                }
                int n = 0;
                for (Lease l : new ArrayList<>(leases.inNamespace(pctx.namespace()))) {
                    if (l.protocol == proto && l.externalPort >= start && l.externalPort <= end
                            && (all || l.internalAddress == requester)) {
                        leases.delete(l.namespace, l.protocol, l.externalPort, 0);
                        n++;
                    }
                }
                if (n == 0) {
                    throw new UpnpError(730, "PortMappingNotFound");
                }
            }
            case "GetCommonLinkProperties" -> {
                out.put("NewWANAccessType", "Ethernet");
                out.put("NewLayer1UpstreamMaxBitRate", "0");
                out.put("NewLayer1DownstreamMaxBitRate", "0");
                out.put("NewPhysicalLinkStatus", "Up");
            }
            case "GetTotalPacketsSent" -> out.put("NewTotalPacketsSent",
                    Long.toString(control.nat().counters().outbound() & 0xFFFF_FFFFL));
            case "GetTotalPacketsReceived" -> out.put("NewTotalPacketsReceived",
                    Long.toString(control.nat().counters().inbound() & 0xFFFF_FFFFL));
            default -> throw new UpnpError(401, "Invalid Action");
        }
        return out;
    }

    private static void entry(Map<String, String> out, Lease l, LeaseTable leases) {
        out.put("NewInternalPort", Integer.toString(l.internalPort));
        out.put("NewInternalClient", Ip4.format(l.internalAddress));
        out.put("NewEnabled", "1");
        out.put("NewPortMappingDescription", l.description == null ? "" : l.description);
        out.put("NewLeaseDuration", Long.toString(l.secondsLeft(leases.now())));
    }

    private static void remoteHostWildcard(Map<String, String> a) throws UpnpError {
        String rh = a.getOrDefault("NewRemoteHost", "");
        if (!rh.isEmpty() && !rh.equals("*") && !rh.equals("0.0.0.0")) {
            throw new UpnpError(726, "RemoteHostOnlySupportsWildcard");
        }
    }

    private static int protocol(Map<String, String> a) throws UpnpError {
        String p = a.get("NewProtocol");
        if ("TCP".equalsIgnoreCase(p)) {
            return IpProtocol.TCP;
        }
        if ("UDP".equalsIgnoreCase(p)) {
            return IpProtocol.UDP;
        }
        throw new UpnpError(402, "Invalid Args");
    }

    private static int number(Map<String, String> a, String name, int min, int max) throws UpnpError {
        return (int) number(a, name, min, (long) max);
    }

    private static long number(Map<String, String> a, String name, long min, long max) throws UpnpError {
        String v = a.get(name);
        if (v == null || v.isEmpty() || v.length() > 10) {
            throw new UpnpError(402, "Invalid Args");
        }
        try {
            long n = Long.parseLong(v);
            if (n < min || n > max) {
                throw new UpnpError(402, "Invalid Args");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UpnpError(402, "Invalid Args");
        }
    }

    private FullHttpResponse ok(SoapRequest call, Map<String, String> out) {
        counters.add(PortControlCounter.SOAP_OK);
        StringBuilder sb = new StringBuilder(envelopeStart());
        sb.append("<u:").append(call.action()).append("Response xmlns:u=\"").append(call.serviceType()).append("\">");
        out.forEach((k, v) -> sb.append('<').append(k).append('>').append(IgdDescriptions.escape(v))
                .append("</").append(k).append('>'));
        sb.append("</u:").append(call.action()).append("Response></s:Body></s:Envelope>\r\n");
        return xml(HttpResponseStatus.OK, sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    static FullHttpResponse fault(UpnpError e) {
        String body = envelopeStart() + "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>"
                + "<detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>" + e.code
                + "</errorCode><errorDescription>" + IgdDescriptions.escape(e.getMessage())
                + "</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>\r\n";
        return xml(HttpResponseStatus.INTERNAL_SERVER_ERROR, body.getBytes(StandardCharsets.UTF_8));
    }

    private static String envelopeStart() {
        return "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"" + SoapRequest.SOAP_ENV
                + "\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>";
    }

    private static FullHttpResponse xml(HttpResponseStatus status, byte[] body) {
        ByteBuf content = Unpooled.wrappedBuffer(body);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/xml; charset=\"utf-8\"");
        r.headers().set(HttpHeaderNames.SERVER, "Linux UPnP/1.1 netty-pktkit/0.1");
        r.headers().set("EXT", "");
        return r;
    }

    private static FullHttpResponse plain(HttpResponseStatus status) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
        return r;
    }

    private static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
        HttpUtil.setContentLength(r, r.content().readableBytes());
        if (keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(r);
        } else {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        counters.add(PortControlCounter.HTTP_REFUSED);
        ctx.close();
    }
}
