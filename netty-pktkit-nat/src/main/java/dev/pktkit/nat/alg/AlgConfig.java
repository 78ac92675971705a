package dev.pktkit.nat.alg;

import java.time.Duration;
import java.util.Arrays;

/**
 * Which ALGs run and their bounds. Defaults: FTP (TCP 21) and TFTP (UDP 69) on; IRC DCC (TCP 6667), SIP
 * (UDP 5060) and PPTP (TCP 1723) off, as Linux stopped attaching its helpers automatically for security reasons (a helper lets a
 * remote open flows to the inside).
 */
public final class AlgConfig {
    final int[] ftpPorts;
    final int[] tftpPorts;
    final int[] ircPorts;
    final int[] sipPorts;
    final int[] pptpPorts;
    final int maxCallsPerControl;
    final Duration expectTimeout;
    final int maxHelpedSessions;
    final int maxLine;
    final int maxGrowth;

    private AlgConfig(Builder b) {
        ftpPorts = b.ftp ? b.ftpPorts : new int[0];
        tftpPorts = b.tftp ? b.tftpPorts : new int[0];
        ircPorts = b.irc ? b.ircPorts : new int[0];
        sipPorts = b.sip ? b.sipPorts : new int[0];
        pptpPorts = b.pptp ? b.pptpPorts : new int[0];
        maxCallsPerControl = b.maxCallsPerControl;
        expectTimeout = b.expectTimeout;
        maxHelpedSessions = b.maxHelpedSessions;
        maxLine = b.maxLine;
        maxGrowth = b.maxGrowth;
    }

    /** FTP and TFTP on, the rest off. */
    public static AlgConfig defaults() {
        return builder().build();
    }

    /** Every ALG off. */
    public static AlgConfig none() {
        return builder().ftp(false).tftp(false).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public boolean ftp() {
        return ftpPorts.length > 0;
    }

    public boolean tftp() {
        return tftpPorts.length > 0;
    }

    public boolean irc() {
        return ircPorts.length > 0;
    }

    public boolean sip() {
        return sipPorts.length > 0;
    }

    public boolean pptp() {
        return pptpPorts.length > 0;
    }

    static boolean contains(int[] ports, int port) {
        for (int p : ports) {
            if (p == port) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "AlgConfig{ftp=" + Arrays.toString(ftpPorts) + ", tftp=" + Arrays.toString(tftpPorts) + ", irc="
                + Arrays.toString(ircPorts) + ", sip=" + Arrays.toString(sipPorts) + ", pptp=" + Arrays.toString(pptpPorts) + ", expectTimeout="
                + expectTimeout + ", maxHelpedSessions=" + maxHelpedSessions + ", maxLine=" + maxLine + '}';
    }

    public static final class Builder {
        private boolean ftp = true;
        private boolean tftp = true;
        private boolean irc;
        private boolean sip;
        private boolean pptp;
        private int[] pptpPorts = {1723};
        private int maxCallsPerControl = 16;
        private int[] ftpPorts = {21};
        private int[] tftpPorts = {69};
        private int[] ircPorts = {6667};
        private int[] sipPorts = {5060};
        private Duration expectTimeout = Duration.ofSeconds(60);
        private int maxHelpedSessions = 1024;
        private int maxLine = 1024;
        private int maxGrowth = 64;

        public Builder ftp(boolean on) {
            ftp = on;
            return this;
        }

        /** The FTP control ports (server side); turns FTP on. */
        public Builder ftpPorts(int... ports) {
            ftpPorts = ports(ports);
            ftp = true;
            return this;
        }

        public Builder tftp(boolean on) {
            tftp = on;
            return this;
        }

        public Builder tftpPorts(int... ports) {
            tftpPorts = ports(ports);
            tftp = true;
            return this;
        }

        /** IRC DCC (off by default). */
        public Builder irc(boolean on) {
            irc = on;
            return this;
        }

        public Builder ircPorts(int... ports) {
            ircPorts = ports(ports);
            irc = true;
            return this;
        }

        /** SIP over UDP (off by default). */
        public Builder sip(boolean on) {
            sip = on;
            return this;
        }

        public Builder sipPorts(int... ports) {
            sipPorts = ports(ports);
            sip = true;
            return this;
        }

        /** PPTP for inside clients (off by default). */
        public Builder pptp(boolean on) {
            pptp = on;
            return this;
        }

        public Builder pptpPorts(int... ports) {
            pptpPorts = ports(ports);
            pptp = true;
            return this;
        }

        /** PPTP calls per control connection (default 16; {@link PptpAlg#MAX_CALLS} in all). */
        public Builder maxCallsPerControl(int n) {
            maxCallsPerControl = positive(n, "maxCallsPerControl");
            return this;
        }

        /** How long an announced flow waits for its first packet (default 60 s). */
        public Builder expectTimeout(Duration d) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("expectTimeout must be positive");
            }
            expectTimeout = d;
            return this;
        }

        /** How many control flows all ALGs together track at a time (default 1024). */
        public Builder maxHelpedSessions(int n) {
            maxHelpedSessions = positive(n, "maxHelpedSessions");
            return this;
        }

        /** The longest control line an ALG parses (default 1024 bytes); longer ones pass unchanged, counted. */
        public Builder maxLine(int n) {
            maxLine = positive(n, "maxLine");
            return this;
        }

        /** How many bytes a rewrite may add to one packet (default 64). */
        public Builder maxGrowth(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("maxGrowth must not be negative");
            }
            maxGrowth = n;
            return this;
        }

        public AlgConfig build() {
            return new AlgConfig(this);
        }

        private static int positive(int n, String what) {
            if (n < 1) {
                throw new IllegalArgumentException(what + " must be positive: " + n);
            }
            return n;
        }

        private static int[] ports(int[] ports) {
            for (int p : ports) {
                if (p < 1 || p > 65535) {
                    throw new IllegalArgumentException("port out of range: " + p);
                }
            }
            return ports.clone();
        }
    }
}
