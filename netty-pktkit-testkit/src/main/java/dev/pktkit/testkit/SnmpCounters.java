package dev.pktkit.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel's protocol counters from {@code /proc/net/snmp} (pairs of lines: {@code Group: names...} then
 * {@code Group: values...}) and {@code /proc/net/snmp6} (one {@code Name value} per line), for tests that prove a
 * packet reached a kernel (the echo requests a host answered, say). Parse the text of another namespace's files
 * with {@link #snmp} and {@link #snmp6}, or read this process's namespace with {@link #icmp}.
 */
public final class SnmpCounters {
    private SnmpCounters() {
    }

    /**
     * The counter {@code name} of {@code group} (e.g. {@code "Icmp"}, {@code "InEchos"}) in the text of a
     * {@code /proc/net/snmp}.
     *
     * @throws IllegalArgumentException if the text has no such counter
     */
    public static long snmp(String text, String group, String name) {
        String prefix = group + ":";
        String[] lines = text.split("\n");
        for (int i = 0; i + 1 < lines.length; i++) {
            if (lines[i].startsWith(prefix) && lines[i + 1].startsWith(prefix)) {
                String[] names = lines[i].trim().split("\\s+");
                String[] values = lines[i + 1].trim().split("\\s+");
                for (int j = 1; j < names.length && j < values.length; j++) {
                    if (names[j].equals(name)) {
                        return Long.parseLong(values[j]);
                    }
                }
            }
        }
        throw new IllegalArgumentException("no " + group + " " + name + " in /proc/net/snmp");
    }

    /**
     * The counter {@code name} (e.g. {@code "Icmp6InEchos"}) in the text of a {@code /proc/net/snmp6}.
     *
     * @throws IllegalArgumentException if the text has no such counter
     */
    public static long snmp6(String text, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\s+(\\d+)").matcher(text);
        if (!m.find()) {
            throw new IllegalArgumentException("no " + name + " in /proc/net/snmp6");
        }
        return Long.parseLong(m.group(1));
    }

    /**
     * This process's namespace's ICMP counter {@code name}: {@code Icmp} of {@code /proc/net/snmp} (e.g.
     * {@code "InEchos"}), or with {@code v6} the {@code /proc/net/snmp6} line (e.g. {@code "Icmp6InEchos"}).
     */
    public static long icmp(boolean v6, String name) throws IOException {
        return v6 ? snmp6(Files.readString(Path.of("/proc/net/snmp6")), name)
                : snmp(Files.readString(Path.of("/proc/net/snmp")), "Icmp", name);
    }
}
