package dev.pktkit.openvpn;

import java.util.List;
import java.util.Optional;

/** Negotiable crypto parameters: the cipher choice a 2.6 server makes from the client's {@code IV_CIPHERS}. */
public final class Ncp {
    private Ncp() {
    }

    /**
     * The first cipher of the server's {@code data-ciphers} that the client's colon-separated {@code IV_CIPHERS}
     * also lists (case-insensitive), or empty, in which case the server answers {@code AUTH_FAILED}.
     */
    public static Optional<String> select(List<String> serverCiphers, String ivCiphers) {
        if (ivCiphers == null || ivCiphers.isEmpty()) {
            return Optional.empty();
        }
        String[] client = ivCiphers.split(":");
        for (String s : serverCiphers) {
            for (String c : client) {
                if (c.trim().equalsIgnoreCase(s)) {
                    return Optional.of(s);
                }
            }
        }
        return Optional.empty();
    }
}
