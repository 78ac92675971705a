package dev.pktkit.vtcp.engine;

import io.netty.buffer.ByteBuf;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/** A connection handler that records events and received bytes (consumed at once unless told otherwise). */
class Recorder implements TcpConnectionHandler, TcpListener {
    final ByteArrayOutputStream received = new ByteArrayOutputStream();
    final List<String> events = new ArrayList<>();
    final List<TcpConnection> accepted = new ArrayList<>();
    TcpConnection connection;
    boolean established;
    boolean peerFin;
    boolean closed;
    Throwable cause;
    boolean consume = true;
    boolean keepBytes = true;
    long receivedBytes;
    int writabilityChanges;

    @Override
    public void onEstablished(TcpConnection c) {
        connection = c;
        established = true;
        events.add("established");
    }

    @Override
    public void onData(TcpConnection c, ByteBuf data) {
        int n = data.readableBytes();
        receivedBytes += n;
        if (keepBytes) {
            byte[] b = new byte[n];
            data.readBytes(b);
            received.writeBytes(b);
        }
        data.release();
        if (consume) {
            c.consumed(n);
        }
    }

    @Override
    public void onPeerFin(TcpConnection c) {
        peerFin = true;
        events.add("fin");
    }

    @Override
    public void onWritabilityChanged(TcpConnection c, boolean writable) {
        writabilityChanges++;
        events.add(writable ? "writable" : "unwritable");
    }

    @Override
    public void onClosed(TcpConnection c, Throwable cause) {
        closed = true;
        this.cause = cause;
        events.add("closed" + (cause == null ? "" : ":" + cause.getClass().getSimpleName()));
    }

    @Override
    public TcpConnectionHandler onAccepted(TcpConnection c) {
        connection = c;
        accepted.add(c);
        return this;
    }
}
