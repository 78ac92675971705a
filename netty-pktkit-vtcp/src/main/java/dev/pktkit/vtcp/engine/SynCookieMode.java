package dev.pktkit.vtcp.engine;

/** When a listener answers SYNs with SYN cookies (RFC 4987 §3.6) instead of keeping half-open state. */
public enum SynCookieMode {
    /** Never: SYNs beyond the backlog or half-open bound are dropped. */
    OFF,
    /** When the listener's backlog or the engine's half-open table is full (the default, Linux's 1). */
    ON_OVERFLOW,
    /** Always (Linux's 2); deferring listeners still keep state. */
    ALWAYS
}
