/**
 * A TCP engine and a virtual host whose Netty channels run any bootstrap over the virtual network.
 *
 * <p>This module is being built; its README says what works.
 */
package dev.pktkit.vtcp;
