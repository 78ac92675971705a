/**
 * A real Linux guest for interop tests: {@link dev.pktkit.testkit.guest.LinuxGuest} boots a stock Debian kernel
 * with a busybox initramfs under QEMU (TCG), its NICs on QEMU socket netdevs, runs a script and reports marker
 * lines; {@link dev.pktkit.testkit.guest.GuestImage} builds and caches the kernel and modules from Debian
 * packages at test time. The initramfs is written by a newc cpio writer in Java, and the modules' load order comes
 * from their {@code .modinfo} {@code depends=} fields, read from the ELF files (both package-private).
 */
package dev.pktkit.testkit.guest;
