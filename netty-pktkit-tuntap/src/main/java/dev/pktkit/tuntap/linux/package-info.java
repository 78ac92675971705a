/**
 * Internal: the C library calls of this module, bound through the Foreign Function &amp; Memory API. Not an API;
 * it may change without notice.
 */
package dev.pktkit.tuntap.linux;
