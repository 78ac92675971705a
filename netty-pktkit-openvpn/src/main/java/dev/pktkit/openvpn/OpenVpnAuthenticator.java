package dev.pktkit.openvpn;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Decides whether a client that completed TLS and key method 2 may connect: the Java counterpart of OpenVPN's
 * {@code auth-user-pass-verify} and {@code client-connect}. It is called on the server's event loop and must not
 * block it: return a stage that completes later (a database query on another thread, ...). The answer is
 * applied back on the loop. A client refused gets {@code AUTH_FAILED}.
 */
@FunctionalInterface
public interface OpenVpnAuthenticator {
    /** Accepts everyone who passed TLS (the certificate check is the only one). */
    OpenVpnAuthenticator CERTIFICATE_ONLY = c -> CompletableFuture.completedFuture(true);

    CompletionStage<Boolean> authenticate(OpenVpnCredentials credentials);
}
