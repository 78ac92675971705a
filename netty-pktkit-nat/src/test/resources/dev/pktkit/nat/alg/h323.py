#!/usr/bin/env python3
"""Scripted H.323 peers for H323InteropTest (messages come from the test's PER encoder).

callee LISTEN H245_OFFSET RTP_OFFSET: accepts one call signalling connection on LISTEN:1720, reads one TPKT
  (a Q.931 Setup), takes the h245Address and the fastStart reverse RTP address at the given offsets of the
  TPKT, opens the H.245 connection to the first and sends RTP to the second.
caller HOST CALLEE SETUP_FILE: listens for H.245 on HOST:30000 and RTP on HOST:16000, sends the Setup to
  CALLEE:1720 and reports where the H.245 connection and the RTP came from.
"""
import socket
import struct
import sys


def log(*a):
    print(*a, flush=True)


def read_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("closed after %d of %d bytes" % (len(b), n))
        b += c
    return b


def addr(msg, at):
    return socket.inet_ntoa(msg[at:at + 4]), struct.unpack("!H", msg[at + 4:at + 6])[0]


def callee(listen, h245_at, rtp_at):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((listen, 1720))
    srv.listen(1)
    srv.settimeout(30)
    c, peer = srv.accept()
    c.settimeout(30)
    head = read_exact(c, 4)
    msg = head + read_exact(c, struct.unpack("!H", head[2:4])[0] - 4)
    h245 = addr(msg, h245_at)
    rtp = addr(msg, rtp_at)
    log("setup from %s h245 %s:%d rtp %s:%d" % (peer[0], h245[0], h245[1], rtp[0], rtp[1]))
    try:
        h = socket.create_connection(h245, timeout=10)
        h.sendall(b"h245-hello\n")
        log("h245 connected")
        h.close()
    except OSError as e:
        log("h245 failed", e)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(3):
        try:
            u.sendto(b"\x80\x00\x00" + bytes([i]) + b"rtp-payload", rtp)
        except OSError as e:
            log("rtp failed", e)
            break
    else:
        log("rtp sent")
    c.close()


def caller(host, callee_addr, setup_file):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((host, 16000))
    u.settimeout(6)
    l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((host, 30000))
    l.listen(1)
    l.settimeout(6)
    with open(setup_file, "rb") as f:
        setup = f.read()
    s = socket.create_connection((callee_addr, 1720), timeout=10, source_address=(host, 0))
    s.sendall(setup)
    try:
        h, peer = l.accept()
        h.settimeout(10)
        log("h245 from %s data %s" % (peer[0], h.recv(100).decode().strip()))
        h.close()
    except OSError as e:
        log("no h245", e)
    try:
        d, peer = u.recvfrom(2000)
        log("rtp from %s data %s" % (peer[0], d[4:].decode()))
    except OSError as e:
        log("no rtp", e)
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "callee":
        callee(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        caller(sys.argv[2], sys.argv[3], sys.argv[4])
