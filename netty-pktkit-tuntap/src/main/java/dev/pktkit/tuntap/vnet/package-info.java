/**
 * The virtio-net header of TUN/TAP devices with offloads: {@link dev.pktkit.tuntap.vnet.VirtioNetHeader} (layout,
 * constants, accessors), {@link dev.pktkit.tuntap.vnet.VirtioNetPacket} (a packet with its parsed header, as a
 * {@code ByteBufHolder}) and {@link dev.pktkit.tuntap.vnet.GsoSegmenter} (TCP segmentation and checksum
 * completion in Java). Independent of the channels: usable by anything that meets these headers.
 */
package dev.pktkit.tuntap.vnet;
