package dev.pktkit.wireguard;

import java.time.Duration;

/**
 * The protocol's timer and counter constants (WireGuard paper §6.1). The defaults are the protocol's; tests and
 * special deployments may shorten them. Immutable; build with {@link #builder()}.
 *
 * @param rekeyAfterMessages  counter after which the initiator starts a new handshake (2^60)
 * @param rejectAfterMessages counter from which a keypair neither seals nor opens (2^64 - 2^13 - 1, unsigned)
 * @param rekeyAfterTime      keypair age after which the initiator starts a new handshake on send (120 s)
 * @param rejectAfterTime     keypair age after which it is no longer used (180 s)
 * @param rekeyAttemptTime    how long initiations are retried before giving up (90 s)
 * @param rekeyTimeout        wait before retrying an initiation (5 s, plus up to {@code rekeyTimeoutJitter})
 * @param rekeyTimeoutJitter  maximum random extra wait on each retry (1/3 s)
 * @param keepaliveTimeout    a keepalive is sent this long after data was received with nothing sent back (10 s)
 * @param cookieRefreshTime   lifetime of the secret behind cookies, and of a received cookie (120 s)
 * @param handshakeInitiationRate minimum time between two initiations consumed from one peer (20 ms)
 */
public record WireGuardTimers(long rekeyAfterMessages, long rejectAfterMessages, Duration rekeyAfterTime,
                              Duration rejectAfterTime, Duration rekeyAttemptTime, Duration rekeyTimeout,
                              Duration rekeyTimeoutJitter, Duration keepaliveTimeout, Duration cookieRefreshTime,
                              Duration handshakeInitiationRate) {
    /** The protocol's constants. */
    public static final WireGuardTimers DEFAULTS = builder().build();

    public WireGuardTimers {
        if (rekeyTimeout.isNegative() || rekeyTimeout.isZero() || rejectAfterTime.compareTo(rekeyAfterTime) < 0) {
            throw new IllegalArgumentException("rekeyTimeout must be positive and rejectAfterTime >= rekeyAfterTime");
        }
    }

    /** How many initiations are sent before giving up: REKEY_ATTEMPT_TIME / REKEY_TIMEOUT (18). */
    public int maxHandshakeAttempts() {
        return (int) Math.max(1, rekeyAttemptTime.toNanos() / rekeyTimeout.toNanos());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder starting from the protocol's defaults. */
    public static final class Builder {
        private long rekeyAfterMessages = 1L << 60;
        private long rejectAfterMessages = -1L - (1L << 13);
        private Duration rekeyAfterTime = Duration.ofSeconds(120);
        private Duration rejectAfterTime = Duration.ofSeconds(180);
        private Duration rekeyAttemptTime = Duration.ofSeconds(90);
        private Duration rekeyTimeout = Duration.ofSeconds(5);
        private Duration rekeyTimeoutJitter = Duration.ofMillis(334);
        private Duration keepaliveTimeout = Duration.ofSeconds(10);
        private Duration cookieRefreshTime = Duration.ofSeconds(120);
        private Duration handshakeInitiationRate = Duration.ofMillis(20);

        public Builder rekeyAfterMessages(long v) {
            rekeyAfterMessages = v;
            return this;
        }

        public Builder rejectAfterMessages(long v) {
            rejectAfterMessages = v;
            return this;
        }

        public Builder rekeyAfterTime(Duration v) {
            rekeyAfterTime = v;
            return this;
        }

        public Builder rejectAfterTime(Duration v) {
            rejectAfterTime = v;
            return this;
        }

        public Builder rekeyAttemptTime(Duration v) {
            rekeyAttemptTime = v;
            return this;
        }

        public Builder rekeyTimeout(Duration v) {
            rekeyTimeout = v;
            return this;
        }

        public Builder rekeyTimeoutJitter(Duration v) {
            rekeyTimeoutJitter = v;
            return this;
        }

        public Builder keepaliveTimeout(Duration v) {
            keepaliveTimeout = v;
            return this;
        }

        public Builder cookieRefreshTime(Duration v) {
            cookieRefreshTime = v;
            return this;
        }

        public Builder handshakeInitiationRate(Duration v) {
            handshakeInitiationRate = v;
            return this;
        }

        public WireGuardTimers build() {
            return new WireGuardTimers(rekeyAfterMessages, rejectAfterMessages, rekeyAfterTime, rejectAfterTime,
                    rekeyAttemptTime, rekeyTimeout, rekeyTimeoutJitter, keepaliveTimeout, cookieRefreshTime,
                    handshakeInitiationRate);
        }
    }
}
