package dev.pktkit.nat.alg;

import dev.pktkit.nat.NatEngine;
import dev.pktkit.nat.NatHelper;

import java.util.ArrayList;
import java.util.List;

/**
 * The ALGs of one NAT. {@link dev.pktkit.nat.Nat#algs(AlgConfig)} replaces whatever ALGs the NAT ran (a
 * {@code Nat} starts with {@link AlgConfig#defaults()}: FTP and TFTP); {@link #install(NatEngine, AlgConfig)}
 * does the same for a bare engine.
 *
 * <pre>{@code
 * Algs algs = nat.algs(AlgConfig.builder().irc(true).build()).sync().getNow();
 * algs.ftp().counters().get(AlgEvent.REWRITTEN);
 * }</pre>
 */
public final class Algs {
    private final AlgConfig config;
    private final FtpAlg ftp;
    private final TftpAlg tftp;
    private final IrcAlg irc;
    private final SipAlg sip;
    private final PptpAlg pptp;

    private Algs(AlgConfig config) {
        this.config = config;
        ftp = config.ftp() ? new FtpAlg(config) : null;
        tftp = config.tftp() ? new TftpAlg(config) : null;
        irc = config.irc() ? new IrcAlg(config) : null;
        sip = config.sip() ? new SipAlg(config) : null;
        pptp = config.pptp() ? new PptpAlg(config) : null;
    }

    /** Installs the configured ALGs into an engine; call on the engine's thread. */
    public static Algs install(NatEngine engine, AlgConfig config) {
        Algs a = new Algs(config);
        List<NatHelper> list = new ArrayList<>();
        for (Alg alg : a.all()) {
            list.add(alg);
        }
        engine.helpers(config.maxHelpedSessions, config.maxGrowth, list.toArray(new NatHelper[0]));
        if (a.pptp != null) {
            a.pptp.engine(engine);
        }
        engine.protocolHelper(a.pptp);
        return a;
    }

    public AlgConfig config() {
        return config;
    }

    /** The running ALGs. */
    public List<Alg> all() {
        List<Alg> l = new ArrayList<>();
        for (Alg a : new Alg[]{ftp, tftp, irc, sip, pptp}) {
            if (a != null) {
                l.add(a);
            }
        }
        return l;
    }

    /** The FTP ALG, or null when off. */
    public FtpAlg ftp() {
        return ftp;
    }

    public TftpAlg tftp() {
        return tftp;
    }

    public IrcAlg irc() {
        return irc;
    }

    public SipAlg sip() {
        return sip;
    }

    public PptpAlg pptp() {
        return pptp;
    }

    @Override
    public String toString() {
        return "Algs" + all();
    }
}
