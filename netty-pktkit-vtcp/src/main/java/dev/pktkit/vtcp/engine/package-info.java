/**
 * The TCP engine: RFC 9293 connections driven by inbound segments, a clock and a timer, producing outbound
 * segments and connection events. It knows nothing of channels or of how segments travel (the virtual host in
 * {@code dev.pktkit.vtcp.host} turns it into Netty channels).
 *
 * <h2>Threading</h2>
 * One {@link dev.pktkit.vtcp.engine.TcpEngine} and all its connections belong to one thread (the host's event
 * loop). No method is thread-safe; none takes a lock. Callbacks run on that thread, from inside the engine
 * method that caused them ({@code input}, {@code onTimer}, {@code write}, {@code flush}, ...). A callback may
 * call back into the engine (write, close, consume); the engine finishes the current segment's processing first
 * where it matters.
 *
 * <h2>Ownership</h2>
 * {@code input} takes ownership of the segment buffer; {@link dev.pktkit.vtcp.engine.TcpConnection#write}
 * takes ownership of the data; {@link dev.pktkit.vtcp.engine.TcpConnectionHandler#onData} passes ownership of
 * the delivered data to the application; {@link dev.pktkit.vtcp.engine.SegmentSink#send} passes ownership of
 * the header buffer and payload slice to the host.
 *
 * <h2>The parts</h2>
 * <ul>
 *   <li>{@link dev.pktkit.vtcp.engine.TcpEngine}: demultiplexing, listeners, SYN cookies, TIME-WAIT, timers.</li>
 *   <li>{@link dev.pktkit.vtcp.engine.TcpConnection}: one connection's state machine (RFC 9293 §3.10).</li>
 *   <li>{@link dev.pktkit.vtcp.engine.cc}: congestion control (RFC 5681/6582 NewReno, RFC 9438 CUBIC).</li>
 * </ul>
 */
package dev.pktkit.vtcp.engine;
