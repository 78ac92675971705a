package dev.pktkit.nat.alg;

import java.io.ByteArrayOutputStream;

/**
 * A small ASN.1 PER (aligned, X.691) encoder for the H.225.0 / H.245 messages the H.323 tests send, written from
 * the ITU-T H.225.0 (v4+) and H.245 ASN.1 for these paths only: Setup, Connect, Alerting and Call Proceeding
 * with {@code h245Address} and {@code fastStart}, H.245 OpenLogicalChannel (G.711 µ-law, H.225.0 logical
 * channel parameters with media and media control channels) and OpenLogicalChannelAck. Each message is framed
 * in TPKT (RFC 1006) and, for H.225.0, in a Q.931 message with Bearer Capability, Display and User-user IEs.
 */
final class H323Messages {
    private H323Messages() {
    }

    /** Bit writer. */
    static final class Per {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private int cur;
        private int n;

        Per bit(boolean b) {
            cur = (cur << 1) | (b ? 1 : 0);
            if (++n == 8) {
                out.write(cur);
                cur = 0;
                n = 0;
            }
            return this;
        }

        Per bits(long v, int count) {
            for (int i = count - 1; i >= 0; i--) {
                bit(((v >>> i) & 1) != 0);
            }
            return this;
        }

        Per align() {
            while (n != 0) {
                bit(false);
            }
            return this;
        }

        Per octets(byte... b) {
            align();
            out.writeBytes(b);
            return this;
        }

        Per octet(int v) {
            return align().bits(v, 8);
        }

        Per u16(int v) {
            return align().bits(v, 16);
        }

        /** An unconstrained length determinant. */
        Per length(int len) {
            align();
            if (len < 128) {
                return bits(len, 8);
            }
            return bits(0x8000 | len, 16);
        }

        /** An open type: the length, then the (octet-aligned, padded) encoding. */
        Per open(Per inner) {
            byte[] b = inner.bytes();
            return length(b.length).octets(b);
        }

        Per octetString(byte[] b) {
            return length(b.length).octets(b);
        }

        /** Extension-addition presence bitmap of {@code count} additions (normally small length + bits). */
        Per additions(boolean... present) {
            bit(false).bits(present.length - 1, 6);
            for (boolean p : present) {
                bit(p);
            }
            return this;
        }

        byte[] bytes() {
            align();
            byte[] b = out.toByteArray();
            return b.length == 0 ? new byte[1] : b; // an empty open type is one zero octet
        }
    }

    static final byte[] H225_V4_OID = {0x00, 0x08, (byte) 0x91, 0x4a, 0x00, 0x04}; // 0.0.8.2250.0.4

    /** H.225.0 TransportAddress ipAddress. */
    static Per address225(Per w, int ip, int port) {
        w.bit(false).bits(0, 3);
        return w.octets(ip4(ip)).u16(port);
    }

    /** H.245 TransportAddress unicastAddress iPAddress. */
    static Per address245(Per w, int ip, int port) {
        w.bit(false).bit(false); // no extension, unicastAddress
        w.bit(false).bits(0, 3); // no extension, iPAddress
        w.bit(false); // iPAddress has no additions
        return w.octets(ip4(ip)).u16(port);
    }

    static byte[] ip4(int ip) {
        return new byte[]{(byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8), (byte) ip};
    }

    /** EndpointType with vendor (H.221 code, product and version) and terminal. */
    static Per endpointType(Per w) {
        w.bit(false).bits(0b010001, 6); // vendor, terminal
        w.bit(false).bits(0b11, 2); // VendorIdentifier: productId, versionId
        w.bit(false).octet(181).octet(0).u16(21324); // H221NonStandard (extensible)
        byte[] product = "pktkit".getBytes();
        w.octet(product.length - 1).octets(product);
        byte[] version = "1.0".getBytes();
        w.octet(version.length - 1).octets(version);
        w.bit(false).bit(false); // TerminalInfo: no extension, no nonStandardData
        w.bit(false).bit(false); // mc, undefinedNode
        return w;
    }

    /** H2250LogicalChannelParameters with sessionID and the given channels (ip 0: absent). */
    static Per h2250(int session, int rtpIp, int rtpPort, int rtcpIp, int rtcpPort) {
        Per w = new Per();
        w.bit(false);
        int opt = (rtpIp != 0 ? 0x80 : 0) | (rtcpIp != 0 ? 0x20 : 0);
        w.bits(opt, 10);
        w.octet(session);
        if (rtpIp != 0) {
            address245(w, rtpIp, rtpPort);
        }
        if (rtcpIp != 0) {
            address245(w, rtcpIp, rtcpPort);
        }
        return w;
    }

    /** DataType audioData g711Ulaw64k (20 frames). */
    static Per g711(Per w) {
        w.bit(false).bits(3, 3); // audioData
        w.bit(false).bits(3, 4); // g711Ulaw64k
        return w.octet(20 - 1);
    }

    /**
     * OpenLogicalChannel: forward G.711 with the sender's RTCP (mediaControlChannel); with {@code reverseRtpIp}
     * != 0 also reverse parameters with the sender's RTP and RTCP receive addresses.
     */
    static byte[] openLogicalChannel(int lcn, int rtcpIp, int rtcpPort, int reverseRtpIp, int reverseRtpPort) {
        return openLogicalChannel(new Per(), lcn, rtcpIp, rtcpPort, reverseRtpIp, reverseRtpPort).bytes();
    }

    static Per openLogicalChannel(Per w, int lcn, int rtcpIp, int rtcpPort, int reverseRtpIp, int reverseRtpPort) {
        w.bit(false).bit(reverseRtpIp != 0);
        w.u16(lcn - 1); // LogicalChannelNumber (1..65535)
        w.bit(false).bit(false); // forward: no extension, no portNumber
        g711(w);
        w.bit(true).bit(false).bits(0, 6); // multiplexParameters: extension alternative 0, h2250
        w.open(h2250(1, 0, 0, rtcpIp, rtcpPort));
        if (reverseRtpIp != 0) {
            w.bit(false).bit(true); // reverse: no extension, multiplexParameters
            g711(w);
            w.bit(true).bit(false).bits(0, 6);
            w.open(h2250(1, reverseRtpIp, reverseRtpPort, reverseRtpIp, reverseRtpPort + 1));
        }
        return w;
    }

    /** The H.245 request message carrying an OpenLogicalChannel. */
    static byte[] h245Olc(int lcn, int rtcpIp, int rtcpPort, int reverseRtpIp, int reverseRtpPort) {
        Per w = new Per();
        w.bit(false).bits(0, 2); // request
        w.bit(false).bits(3, 4); // openLogicalChannel
        return openLogicalChannel(w, lcn, rtcpIp, rtcpPort, reverseRtpIp, reverseRtpPort).bytes();
    }

    /** OpenLogicalChannelAck with forwardMultiplexAckParameters (mediaChannel, mediaControlChannel). */
    static byte[] h245OlcAck(int lcn, int ip, int rtpPort) {
        Per w = new Per();
        w.bit(false).bits(1, 2); // response
        w.bit(false).bits(5, 5); // openLogicalChannelAck
        w.bit(true).bit(false); // additions, no reverseLogicalChannelParameters
        w.u16(lcn - 1);
        w.additions(false, true); // forwardMultiplexAckParameters
        Per ack = new Per();
        ack.bit(false); // h2250LogicalChannelAckParameters
        ack.bit(false).bits(0b01110, 5); // sessionID, mediaChannel, mediaControlChannel
        ack.bits(0, 8); // sessionID 1 (1..255: value - 1 in 8 bits)
        address245(ack, ip, rtpPort);
        address245(ack, ip, rtpPort + 1);
        w.open(ack);
        return w.bytes();
    }

    /** H323-UserInformation's and H323-UU-PDU's preambles and the body's choice index. */
    static Per userInformation(int choice) {
        Per w = new Per();
        w.bit(false).bit(false); // H323-UserInformation: no extension, no user-data
        w.bit(false).bit(false); // H323-UU-PDU: no extension, no nonStandardData
        return w.bit(false).bits(choice, 3);
    }

    /** Setup-UUIE with h245Address, sourceCallSignalAddress and fastStart. */
    static byte[] setup(int h245Ip, int h245Port, int signalIp, int signalPort, byte[]... fastStart) {
        Per w = userInformation(0);
        w.bit(true); // additions follow
        w.bits(h245Ip != 0 ? 0b1000000 : 0, 7); // h245Address only
        w.octetString(H225_V4_OID);
        if (h245Ip != 0) {
            address225(w, h245Ip, h245Port);
        }
        endpointType(w);
        w.bit(false); // activeMC
        w.octets(new byte[16]); // conferenceID
        w.bit(false).bits(0, 2); // conferenceGoal create
        w.bit(false).bits(0, 2); // callType pointToPoint
        // additions: sourceCallSignalAddress(0), callIdentifier(2), fastStart(6), mediaWaitForConnect(7),
        // canOverlapSend(8)
        w.additions(signalIp != 0, false, true, false, false, false, fastStart.length > 0, true, true);
        if (signalIp != 0) {
            w.open(address225(new Per(), signalIp, signalPort));
        }
        Per callId = new Per();
        callId.bit(false).octets(new byte[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
        w.open(callId);
        if (fastStart.length > 0) {
            Per fs = new Per();
            fs.length(fastStart.length);
            for (byte[] olc : fastStart) {
                fs.octetString(olc);
            }
            w.open(fs);
        }
        w.open(new Per().bit(false)); // mediaWaitForConnect FALSE
        w.open(new Per().bit(false)); // canOverlapSend FALSE
        return w.bytes();
    }

    /** Connect-UUIE with h245Address (0: none) and fastStart. */
    static byte[] connect(int h245Ip, int h245Port, byte[]... fastStart) {
        Per w = userInformation(2);
        w.bit(true).bit(h245Ip != 0);
        w.octetString(H225_V4_OID);
        if (h245Ip != 0) {
            address225(w, h245Ip, h245Port);
        }
        endpointType(w);
        w.octets(new byte[16]);
        w.additions(true, false, false, false, fastStart.length > 0);
        Per callId = new Per();
        callId.bit(false).octets(new byte[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
        w.open(callId);
        if (fastStart.length > 0) {
            Per fs = new Per();
            fs.length(fastStart.length);
            for (byte[] olc : fastStart) {
                fs.octetString(olc);
            }
            w.open(fs);
        }
        return w.bytes();
    }

    /** Alerting-UUIE with h245Address (in its root, after destinationInfo) and a callIdentifier. */
    static byte[] alerting(int h245Ip, int h245Port) {
        Per w = userInformation(3);
        w.bit(true).bit(true);
        w.octetString(H225_V4_OID);
        endpointType(w);
        address225(w, h245Ip, h245Port);
        w.additions(true);
        Per callId = new Per();
        callId.bit(false).octets(new byte[16]);
        w.open(callId);
        return w.bytes();
    }

    /** CallProceeding-UUIE with h245Address and fastStart (addition 4). */
    static byte[] callProceeding(int h245Ip, int h245Port, byte[]... fastStart) {
        Per w = userInformation(1);
        w.bit(true).bit(true);
        w.octetString(H225_V4_OID);
        endpointType(w);
        address225(w, h245Ip, h245Port);
        w.additions(true, false, false, false, fastStart.length > 0);
        Per callId = new Per();
        callId.bit(false).octets(new byte[16]);
        w.open(callId);
        if (fastStart.length > 0) {
            Per fs = new Per();
            fs.length(fastStart.length);
            for (byte[] olc : fastStart) {
                fs.octetString(olc);
            }
            w.open(fs);
        }
        return w.bytes();
    }

    /** Facility-UUIE (reason undefinedReason) with h245Address (addition 6) and a callIdentifier. */
    static byte[] facility(int h245Ip, int h245Port) {
        Per w = userInformation(6);
        w.bit(true).bits(0, 3);
        w.octetString(H225_V4_OID);
        w.bit(false).bits(3, 2); // undefinedReason
        w.additions(true, false, false, false, false, false, true);
        Per callId = new Per();
        callId.bit(false).octets(new byte[16]);
        w.open(callId);
        w.open(address225(new Per(), h245Ip, h245Port));
        return w.bytes();
    }

    /** A Q.931 message (call reference 2 octets) with Bearer capability, Display and the User-user IE. */
    static byte[] q931(int type, int callRef, byte[] userInformation) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(0x08);
        o.write(2);
        o.write(callRef >>> 8);
        o.write(callRef);
        o.write(type);
        o.writeBytes(new byte[]{0x04, 0x03, (byte) 0x88, (byte) 0x93, (byte) 0xA5}); // bearer capability
        byte[] disp = "pktkit".getBytes();
        o.write(0x28);
        o.write(disp.length);
        o.writeBytes(disp);
        o.write(0x7E);
        o.write((userInformation.length + 1) >>> 8);
        o.write(userInformation.length + 1);
        o.write(0x05); // X.208/X.209 coded user information
        o.writeBytes(userInformation);
        return o.toByteArray();
    }

    static byte[] tpkt(byte[] payload) {
        byte[] t = new byte[payload.length + 4];
        t[0] = 3;
        t[2] = (byte) (t.length >>> 8);
        t[3] = (byte) t.length;
        System.arraycopy(payload, 0, t, 4, payload.length);
        return t;
    }

    static final int SETUP = 0x05;
    static final int CONNECT = 0x07;
    static final int ALERTING = 0x01;
    static final int CALL_PROCEEDING = 0x02;
    static final int FACILITY = 0x62;

    /** Offset of {@code ip4(ip)} followed by {@code port} in {@code b}, or -1. */
    static int find(byte[] b, int ip, int port) {
        byte[] n = ip4(ip);
        outer:
        for (int i = 0; i + 6 <= b.length; i++) {
            for (int k = 0; k < 4; k++) {
                if (b[i + k] != n[k]) {
                    continue outer;
                }
            }
            if (((b[i + 4] & 0xFF) << 8 | (b[i + 5] & 0xFF)) == port) {
                return i;
            }
        }
        return -1;
    }
}
