package dev.pktkit.nat.interop;

import dev.pktkit.testkit.Tools;
import dev.pktkit.testkit.netns.CommandResult;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Decodes a capture with tshark, one {@link Row} per packet, for the interop tests that must show that what
 * crossed a link decodes cleanly: no malformed packet and no expert information of error severity (which
 * includes a bad IP header checksum, and bad TCP/UDP checksums where the caller asks tshark to check them).
 */
public final class Tshark {
    /** Wireshark's {@code PI_ERROR} expert severity. */
    static final String PI_ERROR = String.valueOf(0x00800000);

    private Tshark() {
    }

    /** Whether tshark is installed. */
    public static boolean available() {
        return Tools.which("tshark") != null;
    }

    /**
     * One packet as tshark decoded it: its number, the protocol column (the innermost protocol tshark found), the
     * outer IPv4 header's protocol and addresses (0 and "" when not IPv4), and whether it was malformed or carried
     * an error-severity expert item.
     */
    public record Row(int frame, String protocol, int ipProto, String src, String dst, boolean malformed,
                      boolean error, String line) {
    }

    /**
     * Runs tshark over {@code pcap} in {@code ns}, with the given {@code -o} preferences (for example
     * {@code "tcp.check_checksum:TRUE"}); IP header checksums are always checked. Fails when tshark does not exit
     * 0 or some packet is malformed or carries an error.
     */
    public static List<Row> decodeCleanly(Ns ns, Path pcap, String... prefs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("tshark", "-n", "-r", pcap.toString(), "-o",
                "ip.check_checksum:TRUE"));
        for (String p : prefs) {
            cmd.add("-o");
            cmd.add(p);
        }
        cmd.addAll(List.of("-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-e", "frame.number", "-e",
                "_ws.col.Protocol", "-e", "ip.proto", "-e", "ip.src", "-e", "ip.dst", "-e", "_ws.malformed", "-e",
                "_ws.expert.severity", "-e", "_ws.col.Info"));
        CommandResult r = ns.exec(cmd.toArray(String[]::new));
        assertEquals(0, r.exit(), r.describe());
        List<Row> rows = new ArrayList<>();
        for (String l : r.output().lines().toList()) {
            String[] f = l.split("\t", -1);
            if (f.length < 8 || f[0].isEmpty() || !Character.isDigit(f[0].charAt(0))) {
                continue; // tshark's own notes on stderr ("Running as user root ...")
            }
            rows.add(new Row(Integer.parseInt(f[0]), f[1], f[2].isEmpty() ? 0 : Integer.parseInt(first(f[2])),
                    first(f[3]), first(f[4]), !f[5].isEmpty(), List.of(f[6].split(",")).contains(PI_ERROR), l));
        }
        for (Row row : rows) {
            assertFalse(row.malformed() || row.error(), "tshark: packet " + row.frame() + " malformed or in error: "
                    + row.line() + "\nall:\n" + r.output());
        }
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(i + 1, rows.get(i).frame(), "one row per packet:\n" + r.output());
        }
        return rows;
    }

    private static String first(String aggregated) {
        int c = aggregated.indexOf(',');
        return c < 0 ? aggregated : aggregated.substring(0, c);
    }
}
