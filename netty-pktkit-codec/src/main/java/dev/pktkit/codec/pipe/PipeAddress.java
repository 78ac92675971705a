package dev.pktkit.codec.pipe;

import java.net.SocketAddress;

/** The address of one end of a {@link PacketPipe}: the pipe's id and the end's letter, e.g. {@code pipe:7/a}. */
public final class PipeAddress extends SocketAddress {
    private static final long serialVersionUID = 1L;

    private final long pipeId;
    private final char end;

    PipeAddress(long pipeId, char end) {
        this.pipeId = pipeId;
        this.end = end;
    }

    public long pipeId() {
        return pipeId;
    }

    /** {@code 'a'} or {@code 'b'}. */
    public char end() {
        return end;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PipeAddress other && other.pipeId == pipeId && other.end == end;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(pipeId) * 31 + end;
    }

    @Override
    public String toString() {
        return "pipe:" + pipeId + "/" + end;
    }
}
