package dev.pktkit.openvpn;

import dev.pktkit.openvpn.data.DataCipher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The line handling both configuration readers share ({@link OpenVpnServerConfig}, {@link OpenVpnClientConfig}):
 * OpenVPN's comment lines, inline {@code <tag>...</tag>} blocks, its tokenizer, argument counts, numbers, and the
 * bounded reading of the files a directive names. Every refusal is an {@link OpenVpnConfigException} with the line.
 */
final class ConfigText {
    /** Largest file a directive may name (a certificate chain, a key, a CRL, a password file): 1 MiB. */
    static final int MAX_FILE_BYTES = 1 << 20;

    /** What a reader does with each inline block. */
    interface Inline {
        void inline(int lineNo, String tag, String body);
    }

    /** What a reader does with each directive line. */
    interface Directive {
        void directive(int lineNo, List<String> words);
    }

    private ConfigText() {
    }

    /**
     * Walks the text: blank lines and {@code #}/{@code ;} comments skipped, inline blocks handed over whole, every
     * other line tokenized. A {@link RuntimeException} from either handler (a key that does not parse, say) becomes an
     * {@link OpenVpnConfigException} on that line.
     */
    static void read(String text, Inline inline, Directive directive) {
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            int lineNo = i + 1;
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            if (line.startsWith("<") && line.endsWith(">") && !line.startsWith("</")) {
                String tag = line.substring(1, line.length() - 1);
                StringBuilder body = new StringBuilder();
                int j = i + 1;
                while (j < lines.length && !lines[j].strip().equals("</" + tag + ">")) {
                    body.append(lines[j]).append('\n');
                    j++;
                }
                if (j == lines.length) {
                    throw new OpenVpnConfigException(lineNo, "<" + tag + "> is not closed");
                }
                try {
                    inline.inline(lineNo, tag, body.toString());
                } catch (OpenVpnConfigException e) {
                    throw e;
                } catch (RuntimeException e) {
                    throw new OpenVpnConfigException(lineNo, "<" + tag + ">: " + e.getMessage());
                }
                i = j;
                continue;
            }
            List<String> w = tokens(line, lineNo);
            try {
                directive.directive(lineNo, w);
            } catch (OpenVpnConfigException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new OpenVpnConfigException(lineNo, w.get(0) + ": " + e.getMessage());
            }
        }
    }

    /** OpenVPN's tokenizer: whitespace-separated words, "double" or 'single' quotes, backslash escapes. */
    static List<String> tokens(String line, int lineNo) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = null;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quote == 0 && (ch == '#' || ch == ';') && cur == null) {
                break; // a comment after the words
            }
            if (quote != '\'' && ch == '\\' && i + 1 < line.length()) {
                cur = cur == null ? new StringBuilder() : cur;
                cur.append(line.charAt(++i));
            } else if (quote != 0) {
                if (ch == quote) {
                    quote = 0;
                } else {
                    cur.append(ch);
                }
            } else if (ch == '"' || ch == '\'') {
                quote = ch;
                cur = cur == null ? new StringBuilder() : cur;
            } else if (Character.isWhitespace(ch)) {
                if (cur != null) {
                    out.add(cur.toString());
                    cur = null;
                }
            } else {
                cur = cur == null ? new StringBuilder() : cur;
                cur.append(ch);
            }
        }
        if (quote != 0) {
            throw new OpenVpnConfigException(lineNo, "unclosed quote");
        }
        if (cur != null) {
            out.add(cur.toString());
        }
        return out;
    }

    /** The arguments after the directive word, refused unless there are {@code min..max} of them. */
    static List<String> args(int lineNo, List<String> w, int min, int max) {
        int n = w.size() - 1;
        if (n < min || n > max) {
            throw new OpenVpnConfigException(lineNo, w.get(0) + " takes " + (min == max ? min : min + ".." + max)
                    + " argument" + (max == 1 ? "" : "s") + ", not " + n);
        }
        return w.subList(1, w.size());
    }

    static int number(int lineNo, String s) {
        try {
            int v = Integer.parseInt(s);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new OpenVpnConfigException(lineNo, "not a non-negative number: " + s);
        }
    }

    /**
     * {@code mssfix [MAX [mtu]]} as OpenVPN 2.6 reads it, as the outer packet size for
     * {@link OpenVpnOptions#mssfix}: no argument is the default 1492 (mtu); {@code MAX mtu} is the packet with IP
     * and UDP header; plain {@code MAX} is 2.6's older meaning without those headers, taken here as IPv4 + UDP
     * (28 bytes more); 0 turns it off; {@code fixed} is refused.
     */
    static int mssfix(int lineNo, List<String> w) {
        List<String> a = args(lineNo, w, 0, 2);
        if (a.isEmpty()) {
            return MssFix.DEFAULT;
        }
        int max = number(lineNo, a.get(0));
        if (a.size() == 2 && !a.get(1).equals("mtu")) {
            throw new OpenVpnConfigException(lineNo, "mssfix " + a.get(1) + ": only the mtu form is done");
        }
        if (max > 65535) {
            throw new OpenVpnConfigException(lineNo, "mssfix above 65535: " + max);
        }
        return max == 0 || a.size() == 2 ? max : Math.min(65535, max + 28);
    }

    /**
     * {@code keepalive PING RESTART}'s two numbers, refused as OpenVPN 2.6 refuses them: both above 0 and the
     * restart at least twice the ping ({@code --keepalive 10 60} is OpenVPN's recommendation).
     */
    static int[] keepalive(int lineNo, List<String> w) {
        List<String> a = args(lineNo, w, 2, 2);
        int ping = number(lineNo, a.get(0));
        int restart = number(lineNo, a.get(1));
        if (ping < 1 || restart < 1) {
            throw new OpenVpnConfigException(lineNo, "keepalive parameters must be > 0");
        }
        if ((long) ping * 2 > restart) {
            throw new OpenVpnConfigException(lineNo, "keepalive's restart (" + restart
                    + ") must be at least twice its ping (" + ping + ")");
        }
        return new int[] {ping, restart};
    }

    static int port(String s, int lineNo) {
        int p = number(lineNo, s);
        if (p > 65535) {
            throw new OpenVpnConfigException(lineNo, "port out of range: " + s);
        }
        return p;
    }

    static int direction(int lineNo, String s) {
        if (!s.equals("0") && !s.equals("1")) {
            throw new OpenVpnConfigException(lineNo, "key direction must be 0 or 1");
        }
        return Integer.parseInt(s);
    }

    static String ciphers(int lineNo, String list) {
        for (String name : list.split(":")) {
            if (DataCipher.byName(name) == null) {
                throw new OpenVpnConfigException(lineNo, "unsupported data cipher " + name);
            }
        }
        return list;
    }

    /** {@code auth}: SHA1, SHA256 or SHA512 (also written SHA-256), normalized. */
    static String digest(int lineNo, String s) {
        String a = s.toUpperCase(java.util.Locale.ROOT).replace("-", "");
        if (!a.equals("SHA1") && !a.equals("SHA256") && !a.equals("SHA512")) {
            throw new OpenVpnConfigException(lineNo, "auth must be SHA1, SHA256 or SHA512");
        }
        return a;
    }

    /** {@code tls-version-min 1.2|1.3 [or-highest]}: the TLS versions to enable. */
    static String[] tlsVersionMin(int lineNo, String v) {
        return switch (v) {
            case "1.2" -> new String[] {"TLSv1.3", "TLSv1.2"};
            case "1.3" -> new String[] {"TLSv1.3"};
            default -> throw new OpenVpnConfigException(lineNo, "tls-version-min must be 1.2 or 1.3");
        };
    }

    /**
     * The bytes of a file a directive names, relative to {@code base}: a regular file (not a device, FIFO or
     * directory, whose reading could block or never end) of at most {@link #MAX_FILE_BYTES}.
     */
    static byte[] file(int lineNo, Path base, String name) {
        if (name.equals("[inline]")) {
            throw new OpenVpnConfigException(lineNo, "[inline] needs a following <block>");
        }
        Path p;
        try {
            p = base == null ? Path.of(name) : base.resolve(name);
        } catch (java.nio.file.InvalidPathException e) {
            throw new OpenVpnConfigException(lineNo, "not a file name: " + e.getMessage());
        }
        if (!Files.isRegularFile(p)) {
            throw new OpenVpnConfigException(lineNo, "cannot read " + p + ": not a regular file");
        }
        try (InputStream in = Files.newInputStream(p)) {
            byte[] b = in.readNBytes(MAX_FILE_BYTES + 1);
            if (b.length > MAX_FILE_BYTES) {
                throw new OpenVpnConfigException(lineNo, p + " is larger than " + MAX_FILE_BYTES + " bytes");
            }
            return b;
        } catch (IOException e) {
            throw new OpenVpnConfigException(lineNo, "cannot read " + p + ": " + e);
        }
    }

    static String text(int lineNo, Path base, String name) {
        return new String(file(lineNo, base, name), StandardCharsets.UTF_8);
    }
}
