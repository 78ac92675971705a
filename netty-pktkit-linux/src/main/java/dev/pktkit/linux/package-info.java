/**
 * Linux FFM glue shared by the native transports: libc calls, rtnetlink, namespaces, ICMP sockets, bpf(2), mmap.
 *
 * <p>This module is being built; its README says what works.
 */
package dev.pktkit.linux;
