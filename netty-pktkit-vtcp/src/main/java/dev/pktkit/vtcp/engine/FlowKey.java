package dev.pktkit.vtcp.engine;

/**
 * A connection's 4-tuple as a hash key. The engine looks connections up with one reused mutable instance, so a
 * lookup allocates nothing; stored keys are never changed after insertion.
 */
final class FlowKey {
    boolean v6;
    long localHi;
    long localLo;
    long remoteHi;
    long remoteLo;
    int localPort;
    int remotePort;
    private int hash;

    FlowKey set4(int local, int localPort, int remote, int remotePort) {
        return set(false, 0, local & 0xFFFF_FFFFL, 0, remote & 0xFFFF_FFFFL, localPort, remotePort);
    }

    FlowKey set(boolean v6, long localHi, long localLo, long remoteHi, long remoteLo, int localPort, int remotePort) {
        this.v6 = v6;
        this.localHi = localHi;
        this.localLo = localLo;
        this.remoteHi = remoteHi;
        this.remoteLo = remoteLo;
        this.localPort = localPort;
        this.remotePort = remotePort;
        long h = localLo * 0x9E3779B97F4A7C15L ^ remoteLo * 0xC2B2AE3D27D4EB4FL ^ localHi * 31 ^ remoteHi * 17
                ^ ((long) localPort << 16 | remotePort) * 0x165667B19E3779F9L;
        this.hash = (int) (h ^ (h >>> 29) ^ (h >>> 47));
        return this;
    }

    FlowKey copy() {
        return new FlowKey().set(v6, localHi, localLo, remoteHi, remoteLo, localPort, remotePort);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FlowKey k && k.localPort == localPort && k.remotePort == remotePort && k.v6 == v6
                && k.localLo == localLo && k.remoteLo == remoteLo && k.localHi == localHi && k.remoteHi == remoteHi;
    }
}
