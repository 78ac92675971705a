/**
 * Small L3 devices: handlers that read and write IP packets ({@link dev.pktkit.codec.device.EchoResponder}),
 * and the {@link dev.pktkit.codec.device.LocalAddresses} view of a host's addresses they share with
 * {@code L2Adapter}.
 */
package dev.pktkit.codec.device;
