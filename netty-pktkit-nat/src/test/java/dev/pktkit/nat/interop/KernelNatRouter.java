package dev.pktkit.nat.interop;

import dev.pktkit.testkit.netns.CommandResult;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The kernel's NAT as the differential oracle of an ALG interop test: namespace {@link #clients} (eth0 with the
 * inside hosts' addresses, default route via the router), {@link #router} (rin: the gateway address, rout: the NAT's
 * outside address, forwarding on) and {@link #server} (eth0 with the remote's address), joined by veth pairs.
 * {@link #load} gives the router its nftables rules (masquerade, a conntrack helper). {@link #close()} removes all
 * three namespaces and their processes.
 */
public final class KernelNatRouter implements AutoCloseable {
    public final Ns clients;
    public final Ns router;
    public final Ns server;

    private KernelNatRouter(Ns clients, Ns router, Ns server) {
        this.clients = clients;
        this.router = router;
        this.server = server;
    }

    /** Builds the three namespaces: {@code hosts} on the clients' eth0 (/24), routed via {@code gateway}. */
    public static KernelNatRouter create(String gateway, String natOutside, String remote, String... hosts)
            throws IOException, InterruptedException {
        Ns cl = Ns.create();
        Ns r = null;
        Ns srv = null;
        try {
            r = Ns.create();
            srv = Ns.create();
            cl.exec("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "rin", "netns", r.name()).check();
            srv.exec("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "rout", "netns", r.name()).check();
            StringBuilder sh = new StringBuilder();
            for (String h : hosts) {
                sh.append("ip addr add ").append(h).append("/24 dev eth0 && ");
            }
            cl.exec("sh", "-c", sh + "ip link set eth0 up && ip route add default via " + gateway).check();
            srv.exec("sh", "-c", "ip addr add " + remote + "/24 dev eth0 && ip link set eth0 up").check();
            r.exec("sh", "-c", "ip addr add " + gateway + "/24 dev rin && ip addr add " + natOutside + "/24 dev rout"
                    + " && ip link set rin up && ip link set rout up && sysctl -q -w net.ipv4.ip_forward=1").check();
            return new KernelNatRouter(cl, r, srv);
        } catch (IOException | InterruptedException | RuntimeException e) {
            for (Ns ns : new Ns[]{srv, r, cl}) {
                if (ns != null) {
                    ns.close();
                }
            }
            throw e;
        }
    }

    /** Loads {@code rules} (an nft script, written to {@code file}) into the router; the caller checks the exit. */
    public CommandResult load(Path file, String rules) throws IOException, InterruptedException {
        Files.writeString(file, rules);
        return router.exec("nft", "-f", file.toString());
    }

    @Override
    public void close() throws IOException, InterruptedException {
        server.close();
        router.close();
        clients.close();
    }
}
