package dev.pktkit.nat.portcontrol;

/** What the control endpoints of one inside port know about it: its NAT namespace. */
record PortContext(String namespaceName, int namespace) {
}
