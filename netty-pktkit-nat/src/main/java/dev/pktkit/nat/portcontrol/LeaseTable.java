package dev.pktkit.nat.portcontrol;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.nat.NatEngine;
import dev.pktkit.nat.NatMapping;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The leases of all three protocols, each one a port forward in the NAT's engine (so the NAT's
 * {@code maxStaticMappings} and its outside-port uniqueness apply to them all). Used on the NAT's loop only.
 */
final class LeaseTable {
    /** Outcome of a request. */
    enum Status {
        /** A new lease. */
        CREATED,
        /** The requester's existing lease, renewed. */
        RENEWED,
        /** The external port asked for exactly is taken (by another lease or any NAT mapping). */
        CONFLICT,
        /** The inside endpoint is already mapped by the NAT itself (a dynamic mapping or another forward). */
        INSIDE_MAPPED,
        /** A bound: leases in total, per host, or the NAT's static mappings. */
        NO_RESOURCES,
        /** The lease belongs to someone else (another host, another PCP nonce). */
        NOT_AUTHORIZED,
        /** No such lease. */
        NO_SUCH
    }

    record Result(Status status, Lease lease) {
        boolean ok() {
            return status == Status.CREATED || status == Status.RENEWED;
        }
    }

    private record InsideKey(int ns, int protocol, int address, int port) {
    }

    private final NatEngine engine;
    private final PortControlConfig config;
    private final PortControlCounters counters;
    private final int outsideAddress;
    private final Map<Integer, Lease> byExternal = new LinkedHashMap<>();
    private final Map<InsideKey, Lease> byInside = new HashMap<>();
    private final Map<Long, Integer> perHost = new HashMap<>();

    LeaseTable(NatEngine engine, PortControlConfig config, PortControlCounters counters) {
        this.engine = engine;
        this.config = config;
        this.counters = counters;
        this.outsideAddress = engine.config().outsideAddresses()[0];
    }

    int outsideAddress() {
        return outsideAddress;
    }

    long now() {
        return config.nanoClock.getAsLong();
    }

    private static int extKey(int protocol, int port) {
        return (protocol << 16) | port;
    }

    private static long hostKey(int ns, int address) {
        return ((long) ns << 32) | (address & 0xFFFF_FFFFL);
    }

    int clampSeconds(long seconds) {
        return (int) Math.min(Math.max(seconds, 1), config.maxLeaseSeconds);
    }

    Lease atExternal(int protocol, int port) {
        return byExternal.get(extKey(protocol, port));
    }

    Lease ofInside(int ns, int protocol, int address, int port) {
        return byInside.get(new InsideKey(ns, protocol, address, port));
    }

    /** The leases of one namespace, oldest first (UPnP's GetGenericPortMappingEntry index). */
    List<Lease> inNamespace(int ns) {
        List<Lease> out = new ArrayList<>();
        for (Lease l : byExternal.values()) {
            if (l.namespace == ns) {
                out.add(l);
            }
        }
        return out;
    }

    List<Lease> all() {
        List<Lease> out = new ArrayList<>(byExternal.size());
        for (Lease l : byExternal.values()) {
            out.add(l.copy());
        }
        return out;
    }

    int size() {
        return byExternal.size();
    }

    /**
     * Maps {@code internalAddress:internalPort} in {@code ns}.
     *
     * @param externalPort wanted external port, 0 for any
     * @param exact        fail with {@link Status#CONFLICT} rather than choose another port (UPnP AddPortMapping,
     *                     PCP PREFER_FAILURE)
     * @param nonce        PCP's mapping nonce (an existing lease with another nonce is {@code NOT_AUTHORIZED}),
     *                     or null
     */
    Result map(int ns, int protocol, int internalAddress, int internalPort, int externalPort, boolean exact,
               long seconds, Lease.Source source, byte[] nonce, String description) {
        long expires = now() + clampSeconds(seconds) * 1_000_000_000L;
        Lease mine = byInside.get(new InsideKey(ns, protocol, internalAddress, internalPort));
        if (mine != null) {
            if (mine.nonce != null && nonce != null && !Arrays.equals(mine.nonce, nonce)) {
                counters.add(PortControlCounter.LEASE_REFUSED);
                return new Result(Status.NOT_AUTHORIZED, mine);
            }
            if (exact && externalPort != 0 && externalPort != mine.externalPort) {
                counters.add(PortControlCounter.LEASE_REFUSED);
                return new Result(Status.CONFLICT, mine);
            }
            if (mine.opened) {
                int port;
                try {
                    port = engine.openMapping(ns, protocol, internalAddress, internalPort, engineSeconds(seconds));
                } catch (IllegalStateException e) {
                    port = -1;
                }
                if (port != mine.externalPort) {
                    // the engine ended the opened mapping on its own (its backstop expiry ran before our sweep),
                    // or the port is another mapping's now: the lease is stale. It ends, and the request is
                    // served as a new one (RFC 6887 §11.3: a MAP for a lost mapping makes one), with the port
                    // the client had as the suggestion
                    remove(mine);
                    counters.add(PortControlCounter.LEASE_EXPIRED);
                    return map(ns, protocol, internalAddress, internalPort,
                            externalPort != 0 ? externalPort : mine.externalPort, exact, seconds, source, nonce,
                            description != null ? description : mine.description);
                }
            }
            mine.expiresAtNanos = expires;
            if (description != null) {
                mine.description = description;
            }
            counters.add(PortControlCounter.LEASE_RENEWED);
            return new Result(Status.RENEWED, mine);
        }
        Long hk = hostKey(ns, internalAddress);
        if (byExternal.size() >= config.maxLeases || perHost.getOrDefault(hk, 0) >= config.maxLeasesPerHost) {
            counters.add(PortControlCounter.LEASE_REFUSED);
            return new Result(Status.NO_RESOURCES, null);
        }
        NatMapping dynamic = engine.mappingOf(ns, protocol, internalAddress, internalPort);
        if (dynamic != null && !dynamic.permanent()) {
            return openExisting(dynamic, ns, protocol, internalAddress, internalPort, externalPort, exact, seconds,
                    source, nonce, description, expires, hk);
        }
        int port = choosePort(protocol, externalPort, internalPort, exact);
        if (port < 0) {
            counters.add(PortControlCounter.LEASE_REFUSED);
            return new Result(exact ? Status.CONFLICT : Status.NO_RESOURCES, null);
        }
        try {
            engine.addStaticMapping(ns, protocol, internalAddress, internalPort, outsideAddress, port, true);
        } catch (IllegalStateException e) {
            counters.add(PortControlCounter.LEASE_REFUSED);
            String m = String.valueOf(e.getMessage());
            if (m.contains("full")) {
                return new Result(Status.NO_RESOURCES, null);
            }
            return new Result(m.contains("inside") ? Status.INSIDE_MAPPED : Status.CONFLICT, null);
        }
        Lease l = new Lease(ns, protocol, port, internalAddress, internalPort, source, nonce, description, expires);
        byExternal.put(extKey(protocol, port), l);
        byInside.put(new InsideKey(ns, protocol, internalAddress, internalPort), l);
        perHost.merge(hk, 1, Integer::sum);
        counters.add(PortControlCounter.LEASE_CREATED);
        return new Result(Status.CREATED, l);
    }

    /**
     * RFC 6886 §3.3 / RFC 6887 §11.3: the host already has a dynamic mapping for the inside endpoint (it sent from
     * that port), so that mapping is returned and opened for inbound instead of a new forward. Refused as
     * {@link Status#INSIDE_MAPPED} when an exact other port is asked for, or the mapping is on another outside
     * address than the one port control hands out.
     */
    private Result openExisting(NatMapping dynamic, int ns, int protocol, int internalAddress, int internalPort,
                                int externalPort, boolean exact, long seconds, Lease.Source source, byte[] nonce,
                                String description, long expires, Long hk) {
        if (dynamic.outsideAddress() != outsideAddress
                || (exact && externalPort != 0 && externalPort != dynamic.outsidePort())) {
            counters.add(PortControlCounter.LEASE_REFUSED);
            return new Result(Status.INSIDE_MAPPED, null);
        }
        int port;
        try {
            port = engine.openMapping(ns, protocol, internalAddress, internalPort, engineSeconds(seconds));
        } catch (IllegalStateException e) {
            counters.add(PortControlCounter.LEASE_REFUSED);
            return new Result(Status.NO_RESOURCES, null);
        }
        if (port < 0) {
            counters.add(PortControlCounter.LEASE_REFUSED);
            return new Result(Status.INSIDE_MAPPED, null);
        }
        Lease l = new Lease(ns, protocol, port, internalAddress, internalPort, source, nonce, description, expires);
        l.opened = true;
        byExternal.put(extKey(protocol, port), l);
        byInside.put(new InsideKey(ns, protocol, internalAddress, internalPort), l);
        perHost.merge(hk, 1, Integer::sum);
        counters.add(PortControlCounter.LEASE_CREATED);
        return new Result(Status.CREATED, l);
    }

    /**
     * The lifetime given to the engine for an opened mapping: the lease's own plus 2 s, so the lease table (which
     * owns the lease and closes the mapping when it ends) always acts first; the engine's is a backstop.
     */
    private int engineSeconds(long seconds) {
        return clampSeconds(seconds) + 2;
    }

    private boolean free(int protocol, int port) {
        return port >= config.portMin && port <= config.portMax && !engine.isMapped(protocol, outsideAddress, port);
    }

    private int choosePort(int protocol, int wanted, int internalPort, boolean exact) {
        if (wanted != 0 && free(protocol, wanted)) {
            return wanted;
        }
        if (exact) {
            return -1;
        }
        if (wanted == 0 && free(protocol, internalPort)) {
            return internalPort;
        }
        int span = config.portMax - config.portMin + 1;
        int start = ThreadLocalRandom.current().nextInt(span);
        for (int i = 0; i < span; i++) {
            int p = config.portMin + (start + i) % span;
            if (free(protocol, p)) {
                return p;
            }
        }
        return -1;
    }

    /**
     * Deletes the lease at {@code externalPort}; {@code requester} (an inside address, or 0 for anyone) must own it.
     */
    Result delete(int ns, int protocol, int externalPort, int requester) {
        Lease l = byExternal.get(extKey(protocol, externalPort));
        if (l == null || l.namespace != ns) {
            return new Result(Status.NO_SUCH, null);
        }
        if (requester != 0 && l.internalAddress != requester) {
            counters.add(PortControlCounter.LEASE_REFUSED);
            return new Result(Status.NOT_AUTHORIZED, l);
        }
        remove(l);
        counters.add(PortControlCounter.LEASE_DELETED);
        return new Result(Status.RENEWED, l);
    }

    /** Deletes the lease of an inside endpoint (NAT-PMP / PCP lifetime 0); a PCP nonce must match. */
    Result deleteInside(int ns, int protocol, int address, int port, byte[] nonce) {
        Lease l = byInside.get(new InsideKey(ns, protocol, address, port));
        if (l == null) {
            return new Result(Status.NO_SUCH, null);
        }
        if (l.nonce != null && nonce != null && !Arrays.equals(l.nonce, nonce)) {
            counters.add(PortControlCounter.LEASE_REFUSED);
            return new Result(Status.NOT_AUTHORIZED, l);
        }
        remove(l);
        counters.add(PortControlCounter.LEASE_DELETED);
        return new Result(Status.RENEWED, l);
    }

    /** Deletes every lease of one host and protocol (NAT-PMP: internal port 0, lifetime 0). */
    int deleteHost(int ns, int protocol, int address, Lease.Source source) {
        int n = 0;
        for (Lease l : new ArrayList<>(byExternal.values())) {
            if (l.namespace == ns && l.protocol == protocol && l.internalAddress == address && l.source == source) {
                remove(l);
                counters.add(PortControlCounter.LEASE_DELETED);
                n++;
            }
        }
        return n;
    }

    /** Removes leases whose time is up; called once a second on the NAT's loop. */
    int expire() {
        long now = now();
        int n = 0;
        for (Iterator<Lease> it = byExternal.values().iterator(); it.hasNext(); ) {
            Lease l = it.next();
            if (l.expiresAtNanos - now <= 0) {
                it.remove();
                forget(l);
                counters.add(PortControlCounter.LEASE_EXPIRED);
                n++;
            }
        }
        return n;
    }

    private void remove(Lease l) {
        byExternal.remove(extKey(l.protocol, l.externalPort));
        forget(l);
    }

    private void forget(Lease l) {
        byInside.remove(new InsideKey(l.namespace, l.protocol, l.internalAddress, l.internalPort));
        perHost.computeIfPresent(hostKey(l.namespace, l.internalAddress), (k, v) -> v <= 1 ? null : v - 1);
        if (l.opened) {
            engine.closeMapping(l.namespace, l.protocol, l.internalAddress, l.internalPort);
        } else {
            engine.removeStaticMapping(l.protocol, outsideAddress, l.externalPort);
        }
    }

    static String protocolName(int protocol) {
        return protocol == IpProtocol.TCP ? "TCP" : protocol == IpProtocol.UDP ? "UDP" : String.valueOf(protocol);
    }
}
