package dev.pktkit.nat;

import io.netty.buffer.ByteBuf;

/**
 * Translation of one IP protocol other than TCP, UDP and ICMP that a helper understands (GRE for PPTP): the
 * engine hands it such packets before its address-only mappings ({@link NatEngine#protocolHelper}). Runs on the
 * NAT's loop; must not allocate on its data path.
 */
public interface ProtocolHelper {
    /** The IP protocol number handled. */
    int protocol();

    /**
     * An inside host's packet ({@code l4} .. {@code end} its IP payload): rewrite it and return
     * {@link NatEngine#TO_OUTSIDE}, or {@link NatEngine#DROP}, or {@link NatEngine#PASS} when it is not one of
     * this helper's flows.
     */
    int outbound(ByteBuf buf, int off, int l4, int end, int namespace, int src, int dst);

    /** A packet from the outside: rewrite it and return the inside port index, {@code DROP} or {@code PASS}. */
    int inbound(ByteBuf buf, int off, int l4, int end, int src, int dst);
}
