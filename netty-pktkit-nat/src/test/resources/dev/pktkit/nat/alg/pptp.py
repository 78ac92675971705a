import socket, struct, sys, select, time
MAGIC = 0x1A2B3C4D
def ctrl(t, length, f1=0, f2=0):
    m = bytearray(length)
    struct.pack_into("!HHIHH", m, 0, length, 1, MAGIC, t, 0)
    struct.pack_into("!HH", m, 12, f1, f2)
    return bytes(m)
def readmsg(c):
    h = b""
    while len(h) < 2:
        d = c.recv(2 - len(h))
        if not d: raise SystemExit("closed")
        h += d
    n = struct.unpack("!H", h)[0]
    b = h
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d: raise SystemExit("closed")
        b += d
    t = struct.unpack_from("!H", b, 8)[0]
    return t, b
def gre(call, seq, text):
    # PPP in HDLC-like framing: an LCP Echo-Request (RFC 1661 5.8) carrying the text
    payload = struct.pack("!HHBBHI", 0xFF03, 0xC021, 9, seq & 0xFF, 8 + len(text), 0) + text
    return struct.pack("!HHHHI", 0x3001, 0x880B, len(payload), call, seq) + payload
def parse_gre(pkt):
    ihl = (pkt[0] & 0x0F) * 4
    src = socket.inet_ntoa(pkt[12:16]); dst = socket.inet_ntoa(pkt[16:20])
    g = pkt[ihl:]
    flags, proto, plen, call = struct.unpack_from("!HHHH", g, 0)
    off = 8 + (4 if flags & 0x1000 else 0) + (4 if g[1] & 0x80 else 0)
    return src, dst, call, g[off + 12:off + plen]
role = sys.argv[1]
if role == "pac":
    # the server: two control connections, then GRE both ways; prints what it saw
    addr, n = sys.argv[2], int(sys.argv[3])
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
    raw.bind((addr, 0))
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((addr, 1723)); l.listen(8); l.settimeout(30)
    print("listening", flush=True)
    calls = []
    conns = []
    for i in range(n):
        c, peer = l.accept(); c.settimeout(30)
        t, m = readmsg(c); assert t == 1, t
        c.sendall(ctrl(2, 156, 0x0100, 0))  # SCCRP: protocol version 1.0 in the first field
        t, m = readmsg(c); assert t == 7, t
        seen = struct.unpack_from("!H", m, 12)[0]
        mine = 0x0100 + i
        c.sendall(ctrl(8, 32, mine, seen))  # OCRP: my call ID, the peer's
        print("call", peer[0], "peer-call-id", seen, "my-call-id", mine, flush=True)
        calls.append((peer[0], seen, mine))
        conns.append(c)
    for (ip, seen, mine) in calls:
        raw.sendto(gre(seen, 1, ("to %s %d" % (ip, seen)).encode()), (ip, 0))
    got = 0
    deadline = time.time() + 10
    while got < n and time.time() < deadline:
        r, _, _ = select.select([raw], [], [], 1)
        if raw in r:
            src, dst, call, p = parse_gre(raw.recv(65535))
            print("gre-from", src, "call", call, "payload", p.decode(), flush=True)
            got += 1
    for c in conns:
        readmsg(c)  # wait for the client's Call-Clear-Request before closing
        c.close()
else:
    # a client bound to its address: one call with call ID 0x1234, GRE both ways
    me, pac = sys.argv[2], sys.argv[3]
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
    raw.bind((me, 0))
    c = socket.create_connection((pac, 1723), timeout=30, source_address=(me, 0))
    c.sendall(ctrl(1, 156, 0x0100, 0))  # SCCRQ
    t, m = readmsg(c); assert t == 2, t
    c.sendall(ctrl(7, 168, 0x1234, 1))  # OCRQ, call ID 0x1234, serial 1
    t, m = readmsg(c); assert t == 8, t
    pac_call, peer = struct.unpack_from("!HH", m, 12)
    print("reply", "my-call-id", peer, "pac-call-id", pac_call, flush=True)
    raw.sendto(gre(pac_call, 1, ("from %s" % me).encode()), (pac, 0))
    deadline = time.time() + 5
    while time.time() < deadline:
        r, _, _ = select.select([raw], [], [], 1)
        if raw in r:
            src, dst, call, p = parse_gre(raw.recv(65535))
            if dst == me:
                print("gre-to", dst, "call", call, "payload", p.decode(), flush=True)
                break
    c.sendall(ctrl(12, 16, 0x1234, 0))  # CCRQ
    c.close()
