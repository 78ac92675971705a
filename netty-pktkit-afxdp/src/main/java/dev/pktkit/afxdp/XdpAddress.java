package dev.pktkit.afxdp;

import java.net.SocketAddress;

/**
 * The local address of an {@link XdpChannel}: an interface and one of its receive queues.
 *
 * @param ifname the interface
 * @param queue  the queue
 */
public record XdpAddress(String ifname, int queue) {
    /** As a {@link SocketAddress} (Netty's {@code localAddress()}). */
    static final class Socket extends SocketAddress {
        private static final long serialVersionUID = 1L;
        final XdpAddress address;

        Socket(XdpAddress address) {
            this.address = address;
        }

        @Override
        public String toString() {
            return address.ifname() + "/" + address.queue();
        }
    }
}
