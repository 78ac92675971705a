package dev.pktkit.testkit;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Counters found by group and name in the kernel's two layouts; a missing one is an error, not zero. */
class SnmpCountersTest {
    private static final String SNMP = """
            Ip: Forwarding DefaultTTL InReceives
            Ip: 1 64 1234
            Icmp: InMsgs InErrors InEchos OutEchoReps
            Icmp: 10 0 7 6
            IcmpMsg: InType8 OutType0
            IcmpMsg: 7 6
            Udp: InDatagrams NoPorts
            Udp: 99 3
            """;

    @Test
    void snmpFindsTheValueUnderItsNameInItsGroup() {
        assertEquals(7, SnmpCounters.snmp(SNMP, "Icmp", "InEchos"));
        assertEquals(6, SnmpCounters.snmp(SNMP, "Icmp", "OutEchoReps"));
        assertEquals(3, SnmpCounters.snmp(SNMP, "Udp", "NoPorts"));
        assertEquals(1234, SnmpCounters.snmp(SNMP, "Ip", "InReceives"));
        assertThrows(IllegalArgumentException.class, () -> SnmpCounters.snmp(SNMP, "Icmp", "InType8"),
                "IcmpMsg's names are not Icmp's");
        assertThrows(IllegalArgumentException.class, () -> SnmpCounters.snmp(SNMP, "Tcp", "InSegs"));
    }

    @Test
    void snmp6FindsAWholeName() {
        String text = "Icmp6InMsgs                     \t12\nIcmp6InEchos                    \t5\nIcmp6InEchoReplies 2\n";
        assertEquals(5, SnmpCounters.snmp6(text, "Icmp6InEchos"));
        assertEquals(2, SnmpCounters.snmp6(text, "Icmp6InEchoReplies"));
        assertThrows(IllegalArgumentException.class, () -> SnmpCounters.snmp6(text, "Icmp6OutEchos"));
    }

    @Test
    void thisNamespacesCountersAreRead() throws Exception {
        assertTrue(SnmpCounters.icmp(false, "InEchos") >= 0);
        assertTrue(SnmpCounters.icmp(true, "Icmp6InEchos") >= 0);
    }
}
