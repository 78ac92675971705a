package dev.pktkit.openvpn;

/** A configuration file directive that is unknown, unsupported or malformed, with its line (0: the file as a whole). */
public final class OpenVpnConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final int line;

    public OpenVpnConfigException(int line, String message) {
        super(line > 0 ? "line " + line + ": " + message : message);
        this.line = line;
    }

    /** The 1-based line number, or 0 when the error concerns the whole file (a missing directive). */
    public int line() {
        return line;
    }
}
