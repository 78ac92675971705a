package dev.pktkit.slirp;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponseDecoder;
import io.netty.handler.codec.dns.DnsQuery;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The DNS forwarder at the namespace's DNS address, port 53, over UDP (RFC 1035 §4.2.1): every guest query is
 * parsed with Netty's DNS codec ({@link DatagramDnsQueryDecoder}); one that does not parse, or is not a query
 * with exactly one question, is dropped and counted. A query gets a fresh random message ID (RFC 5452 §9.2) and
 * goes, as the guest wrote it apart from the ID, out of the namespace's host datagram socket to the first
 * upstream; without an answer within {@link Slirp.Builder#dnsTimeout} it goes to the next upstream, and after
 * the last it is dropped and counted (the guest's resolver retries). An answer is parsed with
 * {@link DatagramDnsResponseDecoder} and accepted only from the upstream asked, with the ID and the question
 * (name, case-insensitive, type and class) of the query (RFC 5452 §9.1); it goes back to the guest from the
 * address it asked, with the guest's ID, otherwise as the upstream wrote it: records of every type, EDNS and
 * the TC bit pass through unchanged (a truncated answer sends the guest's resolver to TCP, which slirp relays to
 * the first upstream). Relaying the bytes rather than re-encoding the decoded records keeps record types whose
 * data holds compressed names (MX, SOA, SRV) intact, which Netty's raw-record encoder would not rewrite.
 *
 * <p>Bounds: at most {@code maxDnsQueries} queries wait for answers per namespace (more are dropped and
 * counted). Runs on the namespace's loop; the host socket's reads hop onto it.
 */
final class DnsForwarder {
    private final SlirpNamespace ns;
    private final List<InetSocketAddress> upstreams;
    /** Waiting queries by the ID sent upstream. Loop only. */
    private final Map<Integer, Waiting> waiting = new HashMap<>();
    private final Parser parser = new Parser();
    private Channel hostChannel;
    private ScheduledFuture<?> retry;
    private final Channel guestChannel;

    /** A guest's query on its way: who asked whom, the guest's ID, the question, the bytes, which upstream. */
    private static final class Waiting {
        final InetSocketAddress guest;
        final InetSocketAddress asked;
        final int guestId;
        final String name;
        final int type;
        final int dnsClass;
        final ByteBuf query;
        int upstream;
        long sentNanos;

        Waiting(InetSocketAddress guest, InetSocketAddress asked, int guestId, DnsQuestion q, ByteBuf query) {
            this.guest = guest;
            this.asked = asked;
            this.guestId = guestId;
            this.name = q.name();
            this.type = q.type().intValue();
            this.dnsClass = q.dnsClass();
            this.query = query;
        }
    }

    /** Netty's decoders, called directly (they do not use their context). */
    private static final class Parser {
        private final QueryDecoder queries = new QueryDecoder();
        private final ResponseDecoder responses = new ResponseDecoder();

        DnsQuery query(DatagramPacket p) throws Exception {
            List<Object> out = new ArrayList<>(1);
            queries.decodeOne(p, out);
            return (DnsQuery) out.get(0);
        }

        DnsResponse response(DatagramPacket p) throws Exception {
            return responses.decodeOne(p);
        }
    }

    private static final class QueryDecoder extends DatagramDnsQueryDecoder {
        void decodeOne(DatagramPacket p, List<Object> out) throws Exception {
            decode(null, p, out);
        }
    }

    private static final class ResponseDecoder extends DatagramDnsResponseDecoder {
        DnsResponse decodeOne(DatagramPacket p) throws Exception {
            return decodeResponse(null, p);
        }
    }

    DnsForwarder(SlirpNamespace ns, Channel guestChannel) {
        this.ns = ns;
        this.guestChannel = guestChannel;
        this.upstreams = ns.slirp.dnsUpstreams;
    }

    Future<?> start() {
        ChannelFuture f = new Bootstrap().group(ns.hostLoops).channel(ns.slirp.datagramClass)
                .option(ChannelOption.SO_RCVBUF, 256 << 10)
                .handler(new UpstreamReader()).bind(new InetSocketAddress(0));
        hostChannel = f.channel();
        long every = Math.max(10, ns.slirp.dnsTimeoutMillis / 4);
        retry = ns.loop.scheduleAtFixedRate(this::retry, every, every, TimeUnit.MILLISECONDS);
        return f;
    }

    void close() {
        if (retry != null) {
            retry.cancel(false);
        }
        for (Waiting w : waiting.values()) {
            w.query.release();
        }
        waiting.clear();
        if (hostChannel != null) {
            hostChannel.close();
        }
    }

    /** A guest datagram to the DNS address, port 53; takes ownership of {@code p}. Loop only. */
    void query(DatagramPacket p) {
        try {
            if (upstreams.isEmpty()) {
                ns.slirp.counters.dnsDropped.increment();
                return;
            }
            DnsQuery q;
            try {
                q = parser.query(new DatagramPacket(p.content().duplicate(), p.recipient(), p.sender()));
            } catch (Exception | LinkageError e) {
                ns.slirp.counters.dnsMalformed.increment();
                return;
            }
            try {
                if (q.count(DnsSection.QUESTION) != 1) {
                    ns.slirp.counters.dnsMalformed.increment();
                    return;
                }
                if (waiting.size() >= ns.slirp.maxDnsQueries) {
                    ns.slirp.counters.dnsDropped.increment();
                    return;
                }
                int id = freshId();
                ByteBuf bytes = p.content().copy();
                bytes.setShort(bytes.readerIndex(), id);
                Waiting w = new Waiting(p.sender(), p.recipient(), q.id(), q.recordAt(DnsSection.QUESTION), bytes);
                waiting.put(id, w);
                ns.slirp.counters.dnsQueries.increment();
                send(w);
            } finally {
                q.release();
            }
        } finally {
            p.release();
        }
    }

    private int freshId() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        int id;
        do {
            id = r.nextInt(0x10000);
        } while (waiting.containsKey(id));
        return id;
    }

    private void send(Waiting w) {
        w.sentNanos = System.nanoTime();
        hostChannel.writeAndFlush(new DatagramPacket(w.query.retainedDuplicate(), upstreams.get(w.upstream)),
                hostChannel.voidPromise());
    }

    /** Resends queries unanswered for the DNS timeout to the next upstream, and drops those past the last. */
    private void retry() {
        long limit = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(ns.slirp.dnsTimeoutMillis);
        for (Iterator<Waiting> it = waiting.values().iterator(); it.hasNext(); ) {
            Waiting w = it.next();
            if (w.sentNanos - limit >= 0) {
                continue;
            }
            if (++w.upstream < upstreams.size()) {
                ns.slirp.counters.dnsRetries.increment();
                send(w);
            } else {
                it.remove();
                w.query.release();
                ns.slirp.counters.dnsTimeouts.increment();
            }
        }
    }

    /** An upstream's answer, on the namespace's loop; takes ownership of {@code p}. */
    private void answer(DatagramPacket p) {
        try {
            DnsResponse r;
            try {
                r = parser.response(new DatagramPacket(p.content().duplicate(), p.recipient(), p.sender()));
            } catch (Exception | LinkageError e) {
                ns.slirp.counters.dnsMalformed.increment();
                return;
            }
            try {
                Waiting w = waiting.get(r.id());
                if (w == null || !p.sender().equals(upstreams.get(w.upstream)) || !sameQuestion(w, r)) {
                    ns.slirp.counters.dnsMismatched.increment();
                    return;
                }
                waiting.remove(r.id());
                w.query.release();
                if (!guestChannel.isActive()) {
                    return;
                }
                ByteBuf out = p.content().retain();
                out.setShort(out.readerIndex(), w.guestId);
                ns.slirp.counters.dnsAnswers.increment();
                guestChannel.writeAndFlush(new DatagramPacket(out, w.guest, w.asked), guestChannel.voidPromise());
            } finally {
                r.release();
            }
        } finally {
            p.release();
        }
    }

    private static boolean sameQuestion(Waiting w, DnsResponse r) {
        if (r.count(DnsSection.QUESTION) != 1) {
            return false;
        }
        DnsQuestion q = r.recordAt(DnsSection.QUESTION);
        return q.type().intValue() == w.type && q.dnsClass() == w.dnsClass && q.name().equalsIgnoreCase(w.name);
    }

    /** Reads answers on the host transport's loop and hands them to the namespace's. */
    private final class UpstreamReader extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof DatagramPacket p)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            ns.loop.execute(() -> answer(p));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // ICMP errors from an upstream: the retry moves to the next one
        }
    }

    @Override
    public String toString() {
        return "DnsForwarder(" + Objects.toString(upstreams) + ", waiting " + waiting.size() + ")";
    }
}
