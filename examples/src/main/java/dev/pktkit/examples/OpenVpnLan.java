package dev.pktkit.examples;

import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.device.LocalAddresses;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.openvpn.L3HubClientAttacher;
import dev.pktkit.openvpn.OpenVpnServer;
import dev.pktkit.openvpn.OpenVpnServerConfig;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3PortOptions;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ReflectiveChannelFactory;
import dev.pktkit.codec.transport.Transports;
import io.netty.channel.socket.DatagramChannel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;

/**
 * An OpenVPN server for stock clients: UDP, TUN mode, tls-crypt, certificates made by its own setup step
 * ({@link ExamplePki}, Bouncy Castle), configured by an OpenVPN-style {@code server.conf} it writes and reads back
 * ({@link OpenVpnServerConfig}), an {@link L3Hub} with the clients and a host at 10.8.0.1 that answers
 * ping ({@link EchoResponder} on a {@link PacketPipe}). It writes {@code client.ovpn} (everything inline) into its
 * directory, so {@code openvpn --config client.ovpn} connects.
 *
 * <pre>
 * mvn -B -q -pl examples validate exec:exec -Dexample.main=dev.pktkit.examples.OpenVpnLan \
 *     -Dexample.args="--dir=/tmp/ovpn-example --port=1194 --remote=127.0.0.1 --seconds=600"
 * sudo openvpn --config /tmp/ovpn-example/client.ovpn     # then: ping 10.8.0.1
 * </pre>
 */
public final class OpenVpnLan implements AutoCloseable {
    public static final String SERVER_ADDRESS = "10.8.0.1";

    final L3Hub hub;
    final OpenVpnServer server;
    final Channel udp;
    final PacketPipe host;
    final Path profile;

    private OpenVpnLan(L3Hub hub, OpenVpnServer server, Channel udp, PacketPipe host, Path profile) {
        this.hub = hub;
        this.server = server;
        this.udp = udp;
        this.host = host;
        this.profile = profile;
    }

    /**
     * Sets up {@code dir} (certificates, tls-crypt key, client profile) and starts the server on
     * {@code bindHost:port} (0: any free port), its UDP channel made by {@code factory}; the profile's
     * {@code remote} is {@code remoteHost} and the bound port.
     */
    public static OpenVpnLan start(Path dir, String bindHost, int port, String remoteHost, EventLoopGroup group,
                                   ChannelFactory<? extends DatagramChannel> factory) throws Exception {
        ExamplePki pki = ExamplePki.ensure(dir);
        Path ta = dir.resolve("tls-crypt.key");
        if (!Files.exists(ta)) {
            byte[] k = new byte[StaticKey.LENGTH];
            new SecureRandom().nextBytes(k);
            Files.writeString(ta, StaticKey.of(k).format());
        }
        // the server is configured the OpenVPN way: a server.conf next to the keys, read by OpenVpnServerConfig
        Path conf = dir.resolve("server.conf");
        Files.writeString(conf, """
                port %d
                proto udp
                dev tun
                topology subnet
                server 10.8.0.0 255.255.255.0
                ca %s
                cert %s
                key %s
                dh none
                tls-crypt %s
                data-ciphers AES-256-GCM:CHACHA20-POLY1305:AES-128-GCM
                keepalive 10 60
                """.formatted(port, pki.ca, pki.serverCert, pki.serverKey, ta));
        OpenVpnServerConfig config = OpenVpnServerConfig.read(conf);
        L3Hub hub = L3Hub.builder().name("openvpn-lan").build();
        OpenVpnServer server = config.builder()
                .clientInitializer(new L3HubClientAttacher(hub))
                .build();
        // the "server side" of the VPN: one host at 10.8.0.1 that answers ping
        LocalAddresses own = LocalAddresses.of(InetAddress.getByName(SERVER_ADDRESS));
        PacketPipe host = PacketPipe.open(group.next(), new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new EchoResponder(own));
            }
        }, group.next(), null).get(5, TimeUnit.SECONDS);
        hub.attach(host.b(), L3PortOptions.prefixes(SERVER_ADDRESS + "/32"));
        Channel udp = new Bootstrap().group(group).channelFactory(factory).handler(server)
                .bind(bindHost, config.port()).sync().channel();
        InetSocketAddress a = (InetSocketAddress) udp.localAddress();
        Path profile = dir.resolve("client.ovpn");
        Files.writeString(profile, """
                client
                dev tun
                proto udp
                remote %s %d
                nobind
                remote-cert-tls server
                verb 3
                <ca>
                %s</ca>
                <cert>
                %s</cert>
                <key>
                %s</key>
                <tls-crypt>
                %s</tls-crypt>
                """.formatted(remoteHost, a.getPort(), Files.readString(pki.ca),
                Files.readString(pki.clientCert), Files.readString(pki.clientKey), Files.readString(ta)));
        return new OpenVpnLan(hub, server, udp, host, profile);
    }

    public Path profile() {
        return profile;
    }

    public OpenVpnServer server() {
        return server;
    }

    @Override
    public void close() throws InterruptedException {
        udp.close().sync();
        host.a().close().sync();
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of("examples/target/openvpn-example");
        int port = 1194;
        long seconds = Long.MAX_VALUE;
        String remote = "127.0.0.1";
        for (String a : args) {
            if (a.startsWith("--dir=")) {
                dir = Path.of(a.substring(6));
            } else if (a.startsWith("--port=")) {
                port = Integer.parseInt(a.substring(7));
            } else if (a.startsWith("--remote=")) {
                remote = a.substring(9);
            } else if (a.startsWith("--seconds=")) {
                seconds = Long.parseLong(a.substring(10));
            }
        }
        MultiThreadIoEventLoopGroup group = Transports.newEventLoopGroup(1);
        try (OpenVpnLan lan = start(dir.toAbsolutePath(), "0.0.0.0", port, remote, group,
                new ReflectiveChannelFactory<>(Transports.datagramChannelClass()))) {
            System.out.println("OpenVPN server on UDP " + lan.udp.localAddress() + " (TUN mode, tls-crypt); "
                    + "host " + SERVER_ADDRESS + " answers ping.");
            System.out.println("Connect with: openvpn --config " + lan.profile);
            long end = seconds == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + seconds * 1_000_000_000L;
            while (System.nanoTime() < end) {
                Thread.sleep(1000);
                int clients = lan.udp.eventLoop().submit(lan.server::clientCount).get();
                System.out.print("\rclients: " + clients + "   ");
            }
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        }
    }
}
