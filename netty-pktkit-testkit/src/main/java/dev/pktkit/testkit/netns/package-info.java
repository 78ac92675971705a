/**
 * Network namespaces for tests: {@link dev.pktkit.testkit.netns.Netns} (create with a unique name, veth pairs,
 * commands with a time limit and captured output, removal of everything on close) and
 * {@link dev.pktkit.testkit.netns.NetnsExtension} (namespaces closed after each test, passed or failed).
 */
package dev.pktkit.testkit.netns;
