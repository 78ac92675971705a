package dev.pktkit.testkit.netns;

import java.io.IOException;

/**
 * A veth pair made by {@link Netns#veth}: {@link #name()} in {@link #namespace()}, {@link #peerName()} in
 * {@link #peerNamespace()} (null: the JVM's own namespace). It goes away with either namespace: deleting a
 * namespace deletes the veth ends inside it, and a veth end never outlives its peer.
 */
public record Veth(String name, Netns namespace, String peerName, Netns peerNamespace) {
    /** Sets both ends up. */
    public Veth up() throws IOException, InterruptedException {
        namespace.exec("ip", "link", "set", name, "up").check();
        peerExec("ip", "link", "set", peerName, "up").check();
        return this;
    }

    /** Adds {@code cidr} (e.g. {@code 10.1.0.1/24}) to this end and {@code peerCidr} to the other (null: none). */
    public Veth addresses(String cidr, String peerCidr) throws IOException, InterruptedException {
        if (cidr != null) {
            namespace.exec("ip", "addr", "add", cidr, "dev", name).check();
        }
        if (peerCidr != null) {
            peerExec("ip", "addr", "add", peerCidr, "dev", peerName).check();
        }
        return this;
    }

    private CommandResult peerExec(String... command) throws IOException, InterruptedException {
        return peerNamespace != null ? peerNamespace.exec(command) : Netns.runOnHost(Netns.DEFAULT_TIMEOUT, command);
    }
}
