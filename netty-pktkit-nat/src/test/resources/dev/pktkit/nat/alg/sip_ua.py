# A scripted SIP user agent for SipInteropTest: "alice" registers and answers, "bob" calls; RTP both ways.
# alice's optional 4th argument "listen": after answering she sends no RTP until she has received some (at most
# 6 s; then "no-rtp"). bob's optional 4th argument: a file whose appearance (at most 20 s) starts his RTP.
import socket, sys, time, random, select, os
role, me, registrar = sys.argv[1], sys.argv[2], sys.argv[3]
extra = sys.argv[4] if len(sys.argv) > 4 else None
SIP_PORT = 5060 if role == "alice" else 5062
RTP_PORT = int(os.environ.get("RTP_PORT", 40000 if role == "alice" else 41000))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((me, SIP_PORT))
s.settimeout(20)
rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rtp.bind((me, RTP_PORT))
def branch():
    return "z9hG4bK" + "%08x" % random.getrandbits(32)
def sdp(addr, port):
    return ("v=0\r\no=%s 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n"
            "a=rtpmap:0 PCMU/8000\r\n" % (role, addr, addr, port))
def msg(first, headers, body=""):
    h = "".join("%s: %s\r\n" % kv for kv in headers)
    ct = "Content-Type: application/sdp\r\n" if body else ""
    return ("%s\r\n%s%sContent-Length: %d\r\n\r\n%s" % (first, h, ct, len(body), body)).encode()
def parse(data):
    text = data.decode("latin-1")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    hs = []
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hs.append((k.strip(), v.strip()))
    return lines[0], hs, body
def get(hs, name):
    return [v for k, v in hs if k.lower() == name.lower()]
def media(body):
    addr = port = None
    for l in body.split("\r\n"):
        if l.startswith("c=IN IP4 "):
            addr = l[9:].strip()
        if l.startswith("m=audio "):
            port = int(l.split()[1])
    return addr, port
def rtp_exchange(peer):
    got = None
    for seq in range(1, 40):
        rtp.sendto(bytes([0x80, 0, 0, seq]) + b"\0" * 8 + ("%s-rtp" % role).encode(), peer)
        r, _, _ = select.select([rtp], [], [], 0.1)
        if rtp in r:
            d, a = rtp.recvfrom(2048)
            got = a
            if seq > 3:
                break
    return got
if role == "alice":
    call_id = "reg-%08x@alice" % random.getrandbits(32)
    s.sendto(msg("REGISTER sip:%s SIP/2.0" % registrar, [
        ("Via", "SIP/2.0/UDP %s:%d;branch=%s" % (me, SIP_PORT, branch())), ("Max-Forwards", "70"),
        ("From", "<sip:alice@%s>;tag=a1" % registrar), ("To", "<sip:alice@%s>" % registrar),
        ("Call-ID", call_id), ("CSeq", "1 REGISTER"), ("Contact", "<sip:alice@%s:%d>" % (me, SIP_PORT)),
        ("Expires", "300")]), (registrar, 5060))
    while True:
        first, hs, body = parse(s.recv(65535))
        if first.startswith("SIP/2.0 2"):
            print("registered", " ".join(get(hs, "Contact")), "via", " ".join(get(hs, "Via")), flush=True)
            break
        if not first.startswith("SIP/2.0 1"):
            sys.exit("register failed: " + first)
    while True:
        data, src = s.recvfrom(65535)
        first, hs, body = parse(data)
        if first.startswith("INVITE "):
            break
    print("invite", first, flush=True)
    peer = media(body)
    print("offer", peer[0], peer[1], flush=True)
    resp = [("Via", v) for v in get(hs, "Via")] + [("Record-Route", v) for v in get(hs, "Record-Route")]
    resp += [("From", get(hs, "From")[0]), ("To", get(hs, "To")[0] + ";tag=a2"), ("Call-ID", get(hs, "Call-ID")[0]),
             ("CSeq", get(hs, "CSeq")[0]), ("Contact", "<sip:alice@%s:%d>" % (me, SIP_PORT))]
    s.sendto(msg("SIP/2.0 200 OK", resp, sdp(me, RTP_PORT)), src)
    if extra == "listen":
        print("answered", flush=True)
        r, _, _ = select.select([rtp], [], [], 6)
        if rtp not in r:
            print("no-rtp", flush=True)
            sys.exit(0)
        d, a = rtp.recvfrom(2048)
        print("rtp-first-from", a, flush=True)
    got = rtp_exchange(peer)
    print("rtp-from", got, flush=True)
else:
    call_id = "call-%08x@bob" % random.getrandbits(32)
    s.sendto(msg("INVITE sip:alice@%s SIP/2.0" % registrar, [
        ("Via", "SIP/2.0/UDP %s:%d;branch=%s" % (me, SIP_PORT, branch())), ("Max-Forwards", "70"),
        ("From", "<sip:bob@%s>;tag=b1" % registrar), ("To", "<sip:alice@%s>" % registrar),
        ("Call-ID", call_id), ("CSeq", "1 INVITE"), ("Contact", "<sip:bob@%s:%d>" % (me, SIP_PORT))],
        sdp(me, RTP_PORT)), (registrar, 5060))
    while True:
        first, hs, body = parse(s.recv(65535))
        if first.startswith("SIP/2.0 1"):
            continue
        break
    print("answer", first, flush=True)
    if not first.startswith("SIP/2.0 200"):
        sys.exit(1)
    peer = media(body)
    print("answer-media", peer[0], peer[1], "contact", " ".join(get(hs, "Contact")), flush=True)
    if extra:
        deadline = time.monotonic() + 20
        while not os.path.exists(extra):
            if time.monotonic() > deadline:
                sys.exit("no go file")
            select.select([], [], [], 0.01)
    got = rtp_exchange(peer)
    print("rtp-from", got, flush=True)
