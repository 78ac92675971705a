package dev.pktkit.nat.alg;

import io.netty.buffer.ByteBuf;

/**
 * Reads H.225.0 call signalling (the H323-UserInformation of a Q.931 User-user IE) and H.245 control messages,
 * ASN.1 PER aligned (ITU-T X.691), only as far as needed to find their IPv4 transport addresses: the offset of
 * each 4-byte address followed by its 2-byte port, and what the address is for. Nothing is decoded into objects
 * and nothing is allocated; one instance per ALG, reused.
 *
 * <p>Found: H.225.0 {@code h245Address} of Setup, Call Proceeding, Connect, Alerting and Facility;
 * {@code sourceCallSignalAddress} of Setup; the {@code fastStart} OpenLogicalChannel elements of those messages;
 * H.245 OpenLogicalChannel (forward and reverse H2250LogicalChannelParameters {@code mediaChannel} and
 * {@code mediaControlChannel}) and OpenLogicalChannelAck (reverse parameters and
 * {@code forwardMultiplexAckParameters}). The structures that come before those fields are decoded to skip them;
 * extension additions are skipped through their open-type lengths.
 *
 * <p>Not understood (a message with them yields what was found before them, then {@link #UNSUPPORTED}): the
 * gateway's {@code protocol} list in EndpointType, {@code ipSourceRoute} H.225 addresses, H.245 addresses other
 * than unicast IPv4, data types other than null data and the simple audio capabilities (G.711, G.722, G.723.1,
 * G.728, G.729), H.222 multiplex parameters, fragmented lengths (≥ 16K), tunnelled H.245 ({@code h245Control})
 * and H.245 {@code separateStack}.
 */
final class H323Decoder {
    /** Address kinds. */
    static final int H245_ADDRESS = 1;
    static final int SIGNAL_ADDRESS = 2;
    static final int RTP = 3;
    static final int RTCP = 4;
    static final int OTHER = 5;

    /** Results of {@link #decodeH225} and {@link #decodeH245}. */
    static final int OK = 0;
    static final int MALFORMED = -1;
    static final int UNSUPPORTED = -2;

    static final int MAX_ADDRESSES = 32;
    private static final int MAX_LIST = 64;
    private static final int MAX_DEPTH = 8;

    /** Thrown inside the decoder only; never escapes it. */
    private static final class Stop extends RuntimeException {
        final int why;

        Stop(int why) {
            super(null, null, false, false);
            this.why = why;
        }
    }

    private static final Stop BAD = new Stop(MALFORMED);
    private static final Stop UNKNOWN = new Stop(UNSUPPORTED);

    private ByteBuf b;
    private long bit;      // absolute bit position in the buffer
    private long endBit;   // bits beyond this are not ours
    private int depth;
    /** H.225 message body (0 setup, 1 callProceeding, 2 connect, 3 alerting, 6 facility, ...), or -1. */
    int body;
    /** H.245: 3 for OpenLogicalChannel, 5 for OpenLogicalChannelAck (the choice index), -1 otherwise. */
    int h245Message;
    int count;
    final int[] at = new int[MAX_ADDRESSES];
    final int[] kind = new int[MAX_ADDRESSES];

    // ---------------------------------------------------------------------------------------------------------
    // entry points

    /** Decodes an H323-UserInformation in {@code [from, to)}. */
    int decodeH225(ByteBuf buf, int from, int to) {
        start(buf, from, to);
        body = -1;
        try {
            boolean ext = bool();
            boolean userData = bool();
            uuPdu();
            return OK;
        } catch (Stop s) {
            return s.why;
        } catch (IndexOutOfBoundsException e) {
            return MALFORMED;
        }
    }

    /** Decodes one MultimediaSystemControlMessage in {@code [from, to)}. */
    int decodeH245(ByteBuf buf, int from, int to) {
        start(buf, from, to);
        h245Message = -1;
        try {
            if (bool()) {
                return OK; // an extension message: nothing of ours
            }
            int kindOf = bits(2);
            if (kindOf == 0) { // request
                if (bool()) {
                    return OK;
                }
                int r = bits(4);
                if (r == 3) {
                    h245Message = 3;
                    openLogicalChannel();
                }
            } else if (kindOf == 1) { // response
                if (bool()) {
                    return OK;
                }
                int r = bits(5);
                if (r == 5) {
                    h245Message = 5;
                    openLogicalChannelAck();
                }
            }
            return OK;
        } catch (Stop s) {
            return s.why;
        } catch (IndexOutOfBoundsException e) {
            return MALFORMED;
        }
    }

    private void start(ByteBuf buf, int from, int to) {
        b = buf;
        bit = (long) from << 3;
        endBit = (long) to << 3;
        count = 0;
        depth = 0;
    }

    // ---------------------------------------------------------------------------------------------------------
    // X.691 aligned primitives

    private int bits(int n) {
        if (bit + n > endBit) {
            throw BAD;
        }
        int v = 0;
        for (int i = 0; i < n; i++) {
            int byteAt = (int) (bit >>> 3);
            int shift = 7 - (int) (bit & 7);
            v = (v << 1) | ((b.getByte(byteAt) >>> shift) & 1);
            bit++;
        }
        return v;
    }

    private boolean bool() {
        return bits(1) != 0;
    }

    private void align() {
        bit = (bit + 7) & ~7L;
        if (bit > endBit) {
            throw BAD;
        }
    }

    private int octet() {
        align();
        return bits(8);
    }

    private int u16() {
        align();
        return bits(16);
    }

    private void skipOctets(int n) {
        align();
        if (n < 0 || bit + 8L * n > endBit) {
            throw BAD;
        }
        bit += 8L * n;
    }

    private int here() {
        align();
        return (int) (bit >>> 3);
    }

    /** A constrained whole number with {@code range} values (ub - lb + 1), returned as value - lb. */
    private int constrained(int range) {
        if (range == 1) {
            return 0;
        }
        if (range <= 255) {
            return bits(32 - Integer.numberOfLeadingZeros(range - 1));
        }
        if (range == 256) {
            return octet();
        }
        if (range <= 65536) {
            return u16();
        }
        throw UNKNOWN;
    }

    /** An unconstrained (or semi-constrained) length determinant (X.691 11.9.3.5-8). */
    private int length() {
        int first = octet();
        if ((first & 0x80) == 0) {
            return first;
        }
        if ((first & 0x40) == 0) {
            return ((first & 0x3F) << 8) | bits(8);
        }
        throw UNKNOWN; // fragmented: 16K or more
    }

    /** A normally small non-negative whole number (X.691 11.6). */
    private int smallNumber() {
        if (!bool()) {
            return bits(6);
        }
        int n = length();
        if (n < 1 || n > 3) {
            throw UNKNOWN;
        }
        int v = 0;
        for (int i = 0; i < n; i++) {
            v = (v << 8) | bits(8);
        }
        return v;
    }

    /** An open type's end (bit position); the caller decodes from here and then calls {@link #leave}. */
    private long open() {
        int n = length();
        align();
        long end = bit + 8L * n;
        if (end > endBit) {
            throw BAD;
        }
        return end;
    }

    private void skipOpen() {
        bit = open();
    }

    /** Runs within an open type's bounds. */
    private long enter(long end) {
        if (++depth > MAX_DEPTH) {
            throw UNKNOWN;
        }
        long outer = endBit;
        endBit = end;
        return outer;
    }

    private void leave(long end, long outer) {
        depth--;
        endBit = outer;
        bit = end;
    }

    /** An extensible SEQUENCE's additions (after its root): their presence bitmap; all skipped but those asked. */
    private long additions(boolean ext) {
        if (!ext) {
            return 0;
        }
        int n;
        if (!bool()) {
            n = bits(6) + 1;
        } else {
            n = length();
            if (n < 1) {
                throw BAD;
            }
        }
        if (n > 63) {
            throw UNKNOWN;
        }
        return bits64(n) << (64 - n); // addition 0 in bit 63
    }

    private long bits64(int n) {
        long v = 0;
        for (int i = 0; i < n; i++) {
            v = (v << 1) | bits(1);
        }
        return v;
    }

    private static boolean has(long bitmap, int i) {
        return (bitmap & (1L << (63 - i))) != 0;
    }

    private void skipAdditions(boolean ext) {
        long m = additions(ext);
        while (m != 0) {
            skipOpen();
            m &= m - 1;
        }
    }

    private void add(int kindOf) {
        if (count == MAX_ADDRESSES) {
            throw UNKNOWN;
        }
        int at6 = here();
        if (bit + 48 > endBit) {
            throw BAD; // the 4 + 2 octets must lie inside the message before the address is recorded
        }
        at[count] = at6;
        kind[count] = kindOf;
        count++;
    }

    private int listLength() {
        int n = length();
        if (n > MAX_LIST) {
            throw UNKNOWN;
        }
        return n;
    }

    // ---------------------------------------------------------------------------------------------------------
    // H.225.0

    private void uuPdu() {
        boolean ext = bool();
        boolean nonStandard = bool();
        if (bool()) { // an extension body (progress, empty, status, ...): not handled
            body = 100 + smallNumber();
            return;
        }
        body = bits(3);
        switch (body) {
            case 0 -> setup();
            case 1 -> callProceeding();
            case 2 -> connect();
            case 3 -> alerting();
            case 6 -> facility();
            default -> {
                // information, releaseComplete: no addresses of ours
            }
        }
    }

    private void setup() {
        boolean ext = bool();
        int opt = bits(7);
        oid();
        if ((opt & 0x40) != 0) {
            address225(H245_ADDRESS);
        }
        if ((opt & 0x20) != 0) {
            aliases();
        }
        endpointType();
        if ((opt & 0x10) != 0) {
            aliases();
        }
        if ((opt & 0x08) != 0) {
            address225(OTHER); // destCallSignalAddress: the called side's, not rewritten
        }
        if ((opt & 0x04) != 0) {
            aliases();
        }
        if ((opt & 0x02) != 0) {
            int n = listLength();
            for (int i = 0; i < n; i++) {
                u16();
            }
        }
        bits(1); // activeMC
        skipOctets(16); // conferenceID
        if (bool()) { // conferenceGoal: an extension alternative
            smallNumber();
            skipOpen();
        } else {
            bits(2);
        }
        if ((opt & 0x01) != 0) { // callServices: QseriesOptions
            boolean e = bool();
            bits(7);
            boolean e2 = bool();
            bits(2);
            skipAdditions(e2);
            skipAdditions(e);
        }
        if (bool()) { // callType
            smallNumber();
            skipOpen();
        } else {
            bits(2);
        }
        long m = additions(ext);
        for (int i = 0; m != 0 && i < 64; i++) {
            if (!has(m, i)) {
                continue;
            }
            m &= ~(1L << (63 - i));
            long end = open();
            long outer = enter(end);
            if (i == 0) {
                address225(SIGNAL_ADDRESS);
            } else if (i == 6) {
                fastStart();
            }
            leave(end, outer);
        }
    }

    private void callProceeding() {
        boolean ext = bool();
        boolean h245 = bool();
        oid();
        endpointType();
        if (h245) {
            address225(H245_ADDRESS);
        }
        fastStartAddition(ext, 4, -1);
    }

    private void connect() {
        boolean ext = bool();
        boolean h245 = bool();
        oid();
        if (h245) {
            address225(H245_ADDRESS);
        }
        endpointType();
        skipOctets(16);
        fastStartAddition(ext, 4, -1);
    }

    private void alerting() {
        boolean ext = bool();
        boolean h245 = bool();
        oid();
        endpointType();
        if (h245) {
            address225(H245_ADDRESS);
        }
        fastStartAddition(ext, 4, -1);
    }

    private void facility() {
        boolean ext = bool();
        int opt = bits(3);
        oid();
        if ((opt & 4) != 0) {
            address225(OTHER); // alternativeAddress
        }
        if ((opt & 2) != 0) {
            aliases();
        }
        if ((opt & 1) != 0) {
            skipOctets(16);
        }
        if (bool()) { // reason: an extension alternative
            smallNumber();
            skipOpen();
        } else {
            bits(2);
        }
        fastStartAddition(ext, 7, 6);
    }

    /** The additions of a message whose fastStart is addition {@code fs} and h245Address addition {@code h245}. */
    private void fastStartAddition(boolean ext, int fs, int h245) {
        long m = additions(ext);
        for (int i = 0; m != 0 && i < 64; i++) {
            if (!has(m, i)) {
                continue;
            }
            m &= ~(1L << (63 - i));
            long end = open();
            long outer = enter(end);
            if (i == fs) {
                fastStart();
            } else if (i == h245) {
                address225(H245_ADDRESS);
            }
            leave(end, outer);
        }
    }

    /** fastStart: SEQUENCE OF OCTET STRING, each an H.245 OpenLogicalChannel. */
    private void fastStart() {
        int n = listLength();
        for (int i = 0; i < n; i++) {
            int len = length();
            align();
            long end = bit + 8L * len;
            if (end > endBit) {
                throw BAD;
            }
            long outer = enter(end);
            openLogicalChannel();
            leave(end, outer);
        }
    }

    private void oid() {
        int n = length();
        skipOctets(n);
    }

    /** H.225.0 TransportAddress. */
    private void address225(int kindOf) {
        if (bool()) {
            smallNumber();
            skipOpen();
            return;
        }
        switch (bits(3)) {
            case 0 -> { // ipAddress: ip OCTET STRING (SIZE(4)), port INTEGER (0..65535)
                add(kindOf);
                skipOctets(6);
            }
            case 2 -> skipOctets(12); // ipxAddress
            case 3 -> { // ip6Address
                boolean e = bool();
                skipOctets(18);
                skipAdditions(e);
            }
            case 4 -> skipOctets(16); // netBios
            case 5 -> skipOctets(bits(5) + 1); // nsap SIZE(1..20)
            case 6 -> nonStandardParameter(false);
            default -> throw UNKNOWN; // ipSourceRoute
        }
    }

    private void aliases() {
        int n = listLength();
        for (int i = 0; i < n; i++) {
            alias();
        }
    }

    /** AliasAddress. */
    private void alias() {
        if (bool()) {
            smallNumber();
            skipOpen();
            return;
        }
        if (bits(1) == 0) { // dialedDigits IA5String (SIZE(1..128)) FROM ("0123456789#*,"): 4 bits a digit
            int n = bits(7) + 1;
            align();
            if (bit + 4L * n > endBit) {
                throw BAD;
            }
            bit += 4L * n;
        } else { // h323-ID BMPString (SIZE(1..256))
            int n = octet() + 1;
            skipOctets(2 * n);
        }
    }

    /** EndpointType. */
    private void endpointType() {
        boolean ext = bool();
        int opt = bits(6);
        if ((opt & 0x20) != 0) {
            nonStandardParameter(false);
        }
        if ((opt & 0x10) != 0) { // vendor: VendorIdentifier
            boolean e = bool();
            int o = bits(2);
            h221(true);
            if ((o & 2) != 0) {
                skipOctets(octet() + 1);
            }
            if ((o & 1) != 0) {
                skipOctets(octet() + 1);
            }
            skipAdditions(e);
        }
        if ((opt & 0x08) != 0) {
            infoWithNonStandard(); // gatekeeper
        }
        if ((opt & 0x04) != 0) { // gateway: GatewayInfo
            boolean e = bool();
            int o = bits(2);
            if ((o & 2) != 0) {
                throw UNKNOWN; // protocol: SEQUENCE OF SupportedProtocols
            }
            if ((o & 1) != 0) {
                nonStandardParameter(false);
            }
            skipAdditions(e);
        }
        if ((opt & 0x02) != 0) {
            infoWithNonStandard(); // mcu
        }
        if ((opt & 0x01) != 0) {
            infoWithNonStandard(); // terminal
        }
        bits(2); // mc, undefinedNode
        skipAdditions(ext);
    }

    /** GatekeeperInfo, McuInfo, TerminalInfo: SEQUENCE { nonStandardData OPTIONAL, ... }. */
    private void infoWithNonStandard() {
        boolean e = bool();
        if (bool()) {
            nonStandardParameter(false);
        }
        skipAdditions(e);
    }

    /** NonStandardParameter; H.225.0's identifier and H221NonStandard are extensible, H.245's are not. */
    private void nonStandardParameter(boolean h245) {
        if (!h245 && bool()) {
            smallNumber();
            skipOpen();
        } else if (bits(1) == 0) {
            oid();
        } else {
            h221(!h245);
        }
        skipOctets(length()); // data
    }

    private void h221(boolean extensible) {
        boolean e = extensible && bool();
        octet();
        octet();
        u16();
        skipAdditions(e);
    }

    // ---------------------------------------------------------------------------------------------------------
    // H.245

    private void openLogicalChannel() {
        boolean ext = bool();
        boolean reverse = bool();
        u16(); // forwardLogicalChannelNumber
        // forwardLogicalChannelParameters
        boolean fe = bool();
        boolean port = bool();
        if (port) {
            u16();
        }
        dataType();
        if (bool()) { // an extension alternative: h2250LogicalChannelParameters (0) or none (1)
            int alt = smallNumber();
            long end = open();
            if (alt == 0) {
                long outer = enter(end);
                h2250Parameters();
                leave(end, outer);
            } else {
                bit = end;
            }
        } else {
            throw UNKNOWN; // h222, h223, v76
        }
        skipAdditions(fe);
        if (reverse) {
            boolean re = bool();
            boolean mux = bool();
            dataType();
            if (mux) {
                if (bool()) {
                    int alt = smallNumber();
                    long end = open();
                    if (alt == 0) {
                        long outer = enter(end);
                        h2250Parameters();
                        leave(end, outer);
                    } else {
                        bit = end;
                    }
                } else {
                    throw UNKNOWN; // h223, v76
                }
            }
            skipAdditions(re);
        }
        skipAdditions(ext); // separateStack, encryptionSync, ...: not handled
    }

    /** H2250LogicalChannelParameters, up to its mediaControlChannel (the rest is not needed). */
    private void h2250Parameters() {
        bool(); // extensible
        int opt = bits(10);
        if ((opt & 0x200) != 0) {
            int n = listLength();
            for (int i = 0; i < n; i++) {
                nonStandardParameter(true);
            }
        }
        octet(); // sessionID
        if ((opt & 0x100) != 0) {
            bits(8); // associatedSessionID (1..255)
        }
        if ((opt & 0x80) != 0) {
            address245(RTP);
        }
        if ((opt & 0x40) != 0) {
            bits(1);
        }
        if ((opt & 0x20) != 0) {
            address245(RTCP);
        }
        // the caller leaves the open type at its end
    }

    private void openLogicalChannelAck() {
        boolean ext = bool();
        boolean reverse = bool();
        u16();
        if (reverse) {
            boolean re = bool();
            int opt = bits(2);
            u16(); // reverseLogicalChannelNumber
            if ((opt & 2) != 0) {
                u16();
            }
            if ((opt & 1) != 0) {
                if (bool()) {
                    int alt = smallNumber();
                    long end = open();
                    if (alt == 0) {
                        long outer = enter(end);
                        h2250Parameters();
                        leave(end, outer);
                    } else {
                        bit = end;
                    }
                } else {
                    throw UNKNOWN; // h222
                }
            }
            skipAdditions(re);
        }
        long m = additions(ext);
        for (int i = 0; m != 0 && i < 64; i++) {
            if (!has(m, i)) {
                continue;
            }
            m &= ~(1L << (63 - i));
            long end = open();
            if (i == 1) { // forwardMultiplexAckParameters
                long outer = enter(end);
                if (!bool()) { // h2250LogicalChannelAckParameters
                    bool();
                    int opt = bits(5);
                    if ((opt & 0x10) != 0) {
                        int n = listLength();
                        for (int k = 0; k < n; k++) {
                            nonStandardParameter(true);
                        }
                    }
                    if ((opt & 0x08) != 0) {
                        bits(8); // sessionID (1..255)
                    }
                    if ((opt & 0x04) != 0) {
                        address245(RTP);
                    }
                    if ((opt & 0x02) != 0) {
                        address245(RTCP);
                    }
                }
                leave(end, outer);
            } else {
                bit = end;
            }
        }
    }

    /** H.245 TransportAddress: only unicast IPv4 is understood. */
    private void address245(int kindOf) {
        if (bool() || bits(1) != 0 || bool()) {
            throw UNKNOWN; // an extension, multicast, or a unicast extension
        }
        if (bits(3) != 0) {
            throw UNKNOWN; // IPX, IPv6, NetBIOS, source route
        }
        boolean e = bool();
        add(kindOf);
        skipOctets(6);
        skipAdditions(e);
    }

    /** DataType: null data and the simple audio capabilities. */
    private void dataType() {
        if (bool()) {
            throw UNKNOWN;
        }
        int t = bits(3);
        if (t == 1) {
            return; // nullData
        }
        if (t != 3 || bool()) {
            throw UNKNOWN;
        }
        int a = bits(4);
        if (a >= 1 && a <= 7 || a >= 9 && a <= 11) {
            octet(); // frames INTEGER (1..256)
        } else if (a == 8) { // g7231
            octet();
            bits(1);
        } else {
            throw UNKNOWN;
        }
    }
}
