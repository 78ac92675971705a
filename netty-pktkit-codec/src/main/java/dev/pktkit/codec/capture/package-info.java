/**
 * Packet capture to classic pcap and pcapng files.
 *
 * <p>{@link dev.pktkit.codec.capture.PacketCapture} is the entry point: it opens a file and hands out
 * {@link dev.pktkit.codec.capture.PacketCaptureHandler}s that record every {@code ByteBuf} passing a pipeline
 * position, without blocking the event loop (a bounded queue feeds one writer). The file encoders,
 * {@link dev.pktkit.codec.capture.PcapWriter} and {@link dev.pktkit.codec.capture.PcapngWriter}, are public for
 * writing capture files directly (tests, tools); they are synchronous and single-threaded.
 */
package dev.pktkit.codec.capture;
