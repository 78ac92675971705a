package dev.pktkit.qemu;

import dev.pktkit.codec.transport.TransportKind;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.util.internal.ObjectUtil;

import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Netty bootstraps and pipelines for QEMU's socket netdevs, and the matching QEMU {@code -netdev} arguments.
 *
 * <h2>Which side is which</h2>
 * <table>
 *   <caption>QEMU netdev variants and the Netty side that serves each</caption>
 *   <tr><th>QEMU option</th><th>QEMU does</th><th>here</th></tr>
 *   <tr><td>{@code -netdev stream,server=off,addr.type=unix|inet,...}</td><td>connects</td>
 *       <td>{@link #streamServer}, argument {@link #streamArgument}</td></tr>
 *   <tr><td>{@code -netdev socket,connect=host:port} (legacy, TCP only)</td><td>connects</td>
 *       <td>{@link #streamServer}, argument {@link #socketConnectArgument}</td></tr>
 *   <tr><td>{@code -netdev stream,server=on,...}, {@code -netdev socket,listen=host:port}</td><td>listens</td>
 *       <td>{@link #streamClient}, arguments {@link #streamServerArgument}, {@link #socketListenArgument}</td></tr>
 *   <tr><td>{@code -netdev dgram,local.*=...,remote.*=...} (UDP or Unix)</td><td>binds local, sends to remote</td>
 *       <td>{@link #datagram}, argument {@link #datagramArgument}</td></tr>
 *   <tr><td>{@code -netdev socket,udp=host:port,localaddr=host:port} (legacy, UDP only)</td>
 *       <td>binds localaddr, sends to udp</td><td>{@link #datagram}, argument {@link #socketUdpArgument}</td></tr>
 * </table>
 * QEMU 7.2's stream client neither retries nor reports a failed connect: start the Netty side first.
 *
 * <h2>Channels</h2>
 * Every bootstrap here picks the channel class from the group's I/O type (NIO, epoll, io_uring, kqueue) and the
 * address: TCP and UDP work everywhere; Unix stream sockets on NIO (JDK {@code UnixDomainSocketAddress}) and the
 * native transports; Unix datagram sockets only on epoll and kqueue (an {@link IllegalStateException} says so
 * otherwise). The pipelines carry Ethernet frames: {@link QemuStreamFrameDecoder} and
 * {@link QemuStreamFrameEncoder} (named {@value #FRAME_DECODER} and {@value #FRAME_ENCODER}), or
 * {@link QemuDatagramCodec} ({@value #DATAGRAM_CODEC}), then the caller's handler.
 *
 * <pre>{@code
 * L2Hub hub = L2Hub.builder().name("vms").build();
 * Channel server = QemuNetdev.streamServer(group, QemuAddress.unix("/tmp/vm.sock"), new PortAttacher(hub))
 *         .bind().sync().channel();
 * // qemu-system-x86_64 ... -device virtio-net-pci,netdev=n0
 * //     -netdev stream,id=n0,server=off,addr.type=unix,addr.path=/tmp/vm.sock
 * String netdev = QemuNetdev.streamArgument("n0", QemuAddress.of(server.localAddress()));
 * }</pre>
 */
public final class QemuNetdev {
    /** Name of the {@link QemuStreamFrameDecoder} in pipelines set up here. */
    public static final String FRAME_DECODER = "qemu-frame-decoder";
    /** Name of the {@link QemuStreamFrameEncoder} in pipelines set up here. */
    public static final String FRAME_ENCODER = "qemu-frame-encoder";
    /** Name of the {@link QemuDatagramCodec} in pipelines set up here. */
    public static final String DATAGRAM_CODEC = "qemu-datagram-codec";

    /** QEMU's identifier syntax: a letter, then letters, digits, '-', '.', '_'. */
    private static final Pattern ID = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]*");

    private QemuNetdev() {
    }

    // ---- pipelines ----

    /**
     * Adds the stream codec ({@value #FRAME_DECODER}, {@value #FRAME_ENCODER}) at the end of {@code pipeline}:
     * handlers added after it read and write Ethernet frames.
     */
    public static ChannelPipeline addStreamCodec(ChannelPipeline pipeline, int maxFrameLength) {
        return pipeline.addLast(FRAME_DECODER, new QemuStreamFrameDecoder(maxFrameLength))
                .addLast(FRAME_ENCODER, new QemuStreamFrameEncoder(maxFrameLength));
    }

    /**
     * An initializer for stream channels: the stream codec, then {@code handler} (if not null; a
     * {@link ChannelInitializer} such as {@code PortAttacher} is fine).
     */
    public static ChannelInitializer<Channel> streamInitializer(int maxFrameLength, ChannelHandler handler) {
        QemuFraming.checkMaxFrameLength(maxFrameLength);
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                addStreamCodec(ch.pipeline(), maxFrameLength);
                if (handler != null) {
                    ch.pipeline().addLast(handler);
                }
            }
        };
    }

    // ---- bootstraps ----

    /** {@link #streamServer(EventLoopGroup, QemuAddress, int, ChannelHandler)} with QEMU's frame limit. */
    public static ServerBootstrap streamServer(EventLoopGroup group, QemuAddress listen, ChannelHandler guestHandler) {
        return streamServer(group, listen, QemuFraming.DEFAULT_MAX_FRAME_LENGTH, guestHandler);
    }

    /**
     * A server bootstrap that listens at {@code listen} for QEMU stream netdevs (QEMU connects:
     * {@code -netdev stream,server=off} or {@code -netdev socket,connect=}). Every accepted child gets the stream
     * codec and then {@code guestHandler} (e.g. {@code new PortAttacher(hub)}). Call {@code bind()}; the local
     * address is set. TCP children get {@code TCP_NODELAY}. A Unix socket file is removed when the server channel
     * closes; one left behind by a crashed process makes the bind fail ("address in use").
     *
     * @param group the loops for both the server and its children (NIO, epoll, io_uring or kqueue)
     */
    public static ServerBootstrap streamServer(EventLoopGroup group, QemuAddress listen, int maxFrameLength,
                                               ChannelHandler guestHandler) {
        TransportKind kind = QemuTransports.kindOf(group);
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(QemuTransports.streamServerChannel(kind, listen))
                .localAddress(QemuTransports.socketAddress(kind, listen))
                .childHandler(streamInitializer(maxFrameLength, guestHandler));
        if (listen instanceof QemuAddress.Inet) {
            b.childOption(ChannelOption.TCP_NODELAY, true);
        }
        return b;
    }

    /** {@link #streamClient(EventLoopGroup, QemuAddress, int, ChannelHandler)} with QEMU's frame limit. */
    public static Bootstrap streamClient(EventLoopGroup group, QemuAddress qemuListens, ChannelHandler handler) {
        return streamClient(group, qemuListens, QemuFraming.DEFAULT_MAX_FRAME_LENGTH, handler);
    }

    /**
     * A bootstrap that connects to a QEMU that listens ({@code -netdev stream,server=on} or
     * {@code -netdev socket,listen=}) — or to any stream server, such as {@link #streamServer}. The channel gets
     * the stream codec and then {@code handler}. Call {@code connect()}; the remote address is set.
     */
    public static Bootstrap streamClient(EventLoopGroup group, QemuAddress qemuListens, int maxFrameLength,
                                         ChannelHandler handler) {
        TransportKind kind = QemuTransports.kindOf(group);
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(QemuTransports.streamChannel(kind, qemuListens))
                .remoteAddress(QemuTransports.socketAddress(kind, qemuListens))
                .handler(streamInitializer(maxFrameLength, handler));
        if (qemuListens instanceof QemuAddress.Inet) {
            b.option(ChannelOption.TCP_NODELAY, true);
        }
        return b;
    }

    /** {@link #datagram(EventLoopGroup, QemuAddress, QemuAddress, int, ChannelHandler)} with QEMU's frame limit. */
    public static Bootstrap datagram(EventLoopGroup group, QemuAddress local, QemuAddress remote,
                                     ChannelHandler handler) {
        return datagram(group, local, remote, QemuFraming.DEFAULT_MAX_FRAME_LENGTH, handler);
    }

    /**
     * A bootstrap for the peer of a QEMU datagram netdev ({@code -netdev dgram}, {@code -netdev socket,udp=}): a
     * datagram socket bound at {@code local} (QEMU's {@code remote}), exchanging one frame per datagram with
     * {@code remote} (QEMU's {@code local}). The channel gets a {@link QemuDatagramCodec} and then
     * {@code handler}, and a fixed receive buffer of {@code maxFrameLength + 1} bytes so that no datagram is
     * silently truncated. A Unix socket file is removed when the channel closes.
     *
     * <p>With a {@code remote}, call {@code connect()} to have the socket connected to it (frames then go out
     * without any per-frame allocation, and the kernel drops datagrams from anyone else; a Unix socket can only
     * be connected once QEMU has created its socket), or {@code bind()} to send each frame to {@code remote} as an
     * addressed datagram; datagrams from anyone else are dropped and counted. Without one, call {@code bind()}:
     * the first sender becomes the peer for good (see {@link QemuDatagramCodec}); frames are dropped (counted) until
     * someone has sent, and datagrams from anybody else afterwards are dropped and counted too.
     *
     * @param remote QEMU's local address, or null to lock onto the first sender
     */
    public static Bootstrap datagram(EventLoopGroup group, QemuAddress local, QemuAddress remote,
                                     int maxFrameLength, ChannelHandler handler) {
        ObjectUtil.checkNotNull(local, "local");
        QemuFraming.checkMaxFrameLength(maxFrameLength);
        if (remote != null && remote.getClass() != local.getClass()) {
            throw new IllegalArgumentException("local and remote must both be inet or both Unix: " + local
                    + ", " + remote);
        }
        TransportKind kind = QemuTransports.kindOf(group);
        SocketAddress remoteAddress = remote == null ? null : QemuTransports.socketAddress(kind, remote);
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(QemuTransports.datagramChannel(kind, local))
                .localAddress(QemuTransports.socketAddress(kind, local))
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(maxFrameLength + 1))
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (local instanceof QemuAddress.Unix unix) {
                            ch.pipeline().addLast(new SocketFileRemover(unix.path()));
                        }
                        ch.pipeline().addLast(DATAGRAM_CODEC, new QemuDatagramCodec(maxFrameLength, remoteAddress));
                        if (handler != null) {
                            ch.pipeline().addLast(handler);
                        }
                    }
                });
        if (remoteAddress != null) {
            b.remoteAddress(remoteAddress);
        }
        return b;
    }

    /**
     * The transport address of {@code address} for channels on {@code group}: an {@code InetSocketAddress}, or for
     * Unix sockets the JDK's {@code UnixDomainSocketAddress} (NIO) or Netty's {@code DomainSocketAddress} (native).
     */
    public static SocketAddress socketAddress(EventLoopGroup group, QemuAddress address) {
        return QemuTransports.socketAddress(QemuTransports.kindOf(group), address);
    }

    // ---- QEMU command line ----

    /**
     * The {@code -netdev} argument for a QEMU that connects to a stream server at {@code server} (QEMU 7.2+):
     * {@code stream,id=n0,server=off,addr.type=unix,addr.path=/tmp/vm.sock} or
     * {@code stream,id=n0,server=off,addr.type=inet,addr.host=127.0.0.1,addr.port=5555}.
     */
    public static String streamArgument(String id, QemuAddress server) {
        return "stream,id=" + checkId(id) + ",server=off," + addr("addr", server);
    }

    /** The {@code -netdev} argument for a QEMU that listens at {@code listen} ({@code stream,...,server=on,...}). */
    public static String streamServerArgument(String id, QemuAddress listen) {
        return "stream,id=" + checkId(id) + ",server=on," + addr("addr", listen);
    }

    /** The legacy {@code -netdev} argument for a QEMU that connects over TCP: {@code socket,id=n0,connect=h:p}. */
    public static String socketConnectArgument(String id, QemuAddress server) {
        return "socket,id=" + checkId(id) + ",connect=" + value(legacyInet(server).hostAndPort());
    }

    /** The legacy {@code -netdev} argument for a QEMU that listens on TCP: {@code socket,id=n0,listen=h:p}. */
    public static String socketListenArgument(String id, QemuAddress listen) {
        return "socket,id=" + checkId(id) + ",listen=" + value(legacyInet(listen).hostAndPort());
    }

    /**
     * The {@code -netdev} argument for a QEMU datagram netdev (QEMU 7.2+) that binds {@code qemuLocal} and sends
     * to {@code remote} (our socket): {@code dgram,id=n0,local.type=inet,local.host=...,local.port=...,
     * remote.type=inet,remote.host=...,remote.port=...}, or the same with {@code type=unix} and {@code path=}.
     */
    public static String datagramArgument(String id, QemuAddress qemuLocal, QemuAddress remote) {
        if (qemuLocal.getClass() != remote.getClass()) {
            throw new IllegalArgumentException("QEMU's local and remote must both be inet or both Unix: "
                    + qemuLocal + ", " + remote);
        }
        return "dgram,id=" + checkId(id) + "," + addr("local", qemuLocal) + "," + addr("remote", remote);
    }

    /**
     * The legacy {@code -netdev} argument for a QEMU that binds {@code qemuLocal} and sends UDP to {@code remote}:
     * {@code socket,id=n0,udp=h:p,localaddr=h:p}.
     */
    public static String socketUdpArgument(String id, QemuAddress qemuLocal, QemuAddress remote) {
        return "socket,id=" + checkId(id) + ",udp=" + value(legacyInet(remote).hostAndPort())
                + ",localaddr=" + value(legacyInet(qemuLocal).hostAndPort());
    }

    private static String addr(String key, QemuAddress a) {
        if (a instanceof QemuAddress.Unix unix) {
            return key + ".type=unix," + key + ".path=" + value(unix.path().toString());
        }
        QemuAddress.Inet inet = (QemuAddress.Inet) a;
        return key + ".type=inet," + key + ".host=" + value(inet.host()) + "," + key + ".port=" + inet.port();
    }

    private static QemuAddress.Inet legacyInet(QemuAddress a) {
        if (a instanceof QemuAddress.Inet inet) {
            return inet;
        }
        throw new IllegalArgumentException("legacy -netdev socket takes inet addresses only, not " + a
                + "; use -netdev stream or dgram for Unix sockets");
    }

    /** QEMU option values escape a comma by doubling it. */
    private static String value(String v) {
        return v.replace(",", ",,");
    }

    private static String checkId(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("not a QEMU id (a letter, then letters, digits, '-', '.', '_'): "
                    + id);
        }
        return id;
    }

    /**
     * Removes a bound Unix datagram socket's file when the socket closes, as Netty's Unix server channels do.
     * Armed only once the bind succeeded, so a failed bind never removes somebody else's socket.
     */
    private static final class SocketFileRemover extends ChannelInboundHandlerAdapter {
        private final Path path;

        SocketFileRemover(Path path) {
            this.path = path;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.channel().closeFuture().addListener(f -> Files.deleteIfExists(path));
            ctx.pipeline().remove(this);
            ctx.fireChannelActive();
        }
    }
}
