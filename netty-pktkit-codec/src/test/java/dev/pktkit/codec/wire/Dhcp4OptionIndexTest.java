package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Dhcp4OptionIndex} answers what {@link Dhcp4Options}' walking readers answer, on random messages with
 * overloaded 'file'/'sname' areas, split options, PADs, missing ENDs and random damage; and it walks once.
 */
class Dhcp4OptionIndexTest {
    private static final int[] CODES = {
            Dhcp4Option.MESSAGE_TYPE, Dhcp4Option.SERVER_IDENTIFIER, Dhcp4Option.REQUESTED_IP_ADDRESS,
            Dhcp4Option.SUBNET_MASK, Dhcp4Option.LEASE_TIME, Dhcp4Option.MAX_MESSAGE_SIZE, Dhcp4Option.HOST_NAME,
            Dhcp4Option.CLIENT_IDENTIFIER, Dhcp4Option.PARAMETER_REQUEST_LIST, Dhcp4Option.RELAY_AGENT_INFORMATION,
            Dhcp4Option.OPTION_OVERLOAD, 7, 200};

    /** A random option of one of {@code CODES}, with a length that is sometimes right for its type. */
    private static void option(ByteBuf b, SplittableRandom rnd, int room) {
        int code = CODES[rnd.nextInt(CODES.length)];
        if (code == Dhcp4Option.OPTION_OVERLOAD && rnd.nextInt(4) != 0) {
            code = 7; // overload is placed on purpose below; a stray one now and then
        }
        int[] lengths = {0, 1, 2, 4, 6, rnd.nextInt(20)};
        int l = Math.min(lengths[rnd.nextInt(lengths.length)], room - 2);
        if (l < 0) {
            return;
        }
        b.writeByte(code).writeByte(l);
        for (int i = 0; i < l; i++) {
            b.writeByte(rnd.nextInt(256));
        }
    }

    private static void area(ByteBuf b, SplittableRandom rnd, int room, boolean end) {
        int start = b.writerIndex();
        int n = rnd.nextInt(8);
        for (int i = 0; i < n && b.writerIndex() - start < room - 2; i++) {
            if (rnd.nextInt(6) == 0) {
                b.writeByte(Dhcp4Option.PAD);
            } else {
                option(b, rnd, room - (b.writerIndex() - start));
            }
        }
        if (end && b.writerIndex() - start < room) {
            b.writeByte(Dhcp4Option.END);
        }
    }

    private static ByteBuf message(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        ByteBuf b = Unpooled.buffer(600);
        Dhcp4.writeFixed(b, Dhcp4.OP_REQUEST, rnd.nextLong(), 0, 0, 0, 0, 0, 0, 0x0200_0000_0001L);
        int overload = rnd.nextInt(5); // 0: none; 1..3: file / sname / both; 4: a bad value
        if (overload != 0) {
            b.writeByte(Dhcp4Option.OPTION_OVERLOAD).writeByte(1).writeByte(overload == 4 ? 9 : overload);
        }
        area(b, rnd, 200, rnd.nextInt(8) != 0);
        if (overload == 1 || overload == 3) {
            ByteBuf file = Unpooled.buffer(Dhcp4.FILE_LENGTH);
            area(file, rnd, Dhcp4.FILE_LENGTH, rnd.nextBoolean());
            b.setBytes(Dhcp4.FILE_OFFSET, file, 0, file.readableBytes());
            file.release();
        }
        if (overload == 2 || overload == 3) {
            ByteBuf sname = Unpooled.buffer(Dhcp4.SNAME_LENGTH);
            area(sname, rnd, Dhcp4.SNAME_LENGTH, rnd.nextBoolean());
            b.setBytes(Dhcp4.SNAME_OFFSET, sname, 0, sname.readableBytes());
            sname.release();
        }
        if (rnd.nextInt(5) == 0) { // damage: a random byte somewhere in an options area
            int at = Dhcp4.OPTIONS_OFFSET + rnd.nextInt(Math.max(1, b.writerIndex() - Dhcp4.OPTIONS_OFFSET));
            b.setByte(at, rnd.nextInt(256));
        }
        if (rnd.nextInt(6) == 0 && b.writerIndex() > Dhcp4.OPTIONS_OFFSET) { // cut short
            b.writerIndex(Dhcp4.OPTIONS_OFFSET + rnd.nextInt(b.writerIndex() - Dhcp4.OPTIONS_OFFSET));
        }
        return b;
    }

    @Test
    void answersAsTheWalkingReadersOnRandomMessages() {
        Dhcp4OptionIndex idx = new Dhcp4OptionIndex(); // one index reused across messages, as a server does
        int valid = 0;
        int split = 0;
        int overloaded = 0;
        for (long seed = 0; seed < 20_000; seed++) {
            ByteBuf b = message(seed);
            try {
                int len = b.writerIndex();
                int r = idx.index(b, 0, len);
                String at = "seed " + seed;
                assertEquals(Dhcp4.check(b, 0, len) < 0, r < 0, at);
                assertEquals(r == 0, idx.isValid(), at);
                if (r == 0) {
                    valid++;
                    if (Dhcp4Options.optionOverload(b, 0, len) > 0) {
                        overloaded++;
                    }
                }
                for (int code : CODES) {
                    assertEquals(Dhcp4Options.findOption(b, 0, len, code), idx.position(code), at + " position " + code);
                    assertEquals(Dhcp4Options.optionLength(b, 0, len, code), idx.length(code), at + " length " + code);
                    assertEquals(Dhcp4Options.hasOption(b, 0, len, code), idx.has(code), at);
                    assertArrayEquals(Dhcp4Options.optionBytes(b, 0, len, code), idx.bytes(code), at + " bytes " + code);
                    assertEquals(Dhcp4Options.optionString(b, 0, len, code), idx.string(code), at);
                    assertEquals(Dhcp4Options.requestsOption(b, 0, len, code), idx.requestsOption(code), at);
                    if (idx.instances(code) > 1) {
                        split++;
                    }
                }
                assertEquals(Dhcp4Options.messageType(b, 0, len), idx.messageType(), at);
                assertEquals(Dhcp4Options.serverId(b, 0, len), idx.serverId(), at);
                assertEquals(Dhcp4Options.requestedIp(b, 0, len), idx.requestedIp(), at);
                assertEquals(Dhcp4Options.subnetMask(b, 0, len), idx.subnetMask(), at);
                assertEquals(Dhcp4Options.leaseTime(b, 0, len), idx.leaseTime(), at);
                assertEquals(Dhcp4Options.maxMessageSize(b, 0, len), idx.maxMessageSize(), at);
                assertEquals(Dhcp4Options.hostName(b, 0, len), idx.hostName(), at);
                assertArrayEquals(Dhcp4Options.clientId(b, 0, len), idx.clientId(), at);
            } finally {
                b.release();
            }
        }
        // the generator reached every case it is meant to
        assertTrue(valid > 5_000 && valid < 19_000, "valid: " + valid);
        assertTrue(split > 1_000, "split options: " + split);
        assertTrue(overloaded > 1_000, "overloaded messages: " + overloaded);
    }

    @Test
    void aMalformedMessageLeavesNothingOfThePreviousOne() {
        Dhcp4OptionIndex idx = new Dhcp4OptionIndex();
        ByteBuf good = Unpooled.buffer(300);
        Dhcp4.writeFixed(good, Dhcp4.OP_REQUEST, 1, 0, 0, 0, 0, 0, 0, 0x0200_0000_0001L);
        Dhcp4.writeByteOption(good, Dhcp4Option.MESSAGE_TYPE, Dhcp4.DISCOVER);
        Dhcp4.writeIntOption(good, Dhcp4Option.REQUESTED_IP_ADDRESS, 0x0A00_0005);
        Dhcp4.writeEnd(good, 0);
        ByteBuf bad = good.copy();
        bad.setByte(Dhcp4.OPTIONS_OFFSET + 4, 200); // the second option's length now runs past the message
        try {
            assertEquals(0, idx.index(good, 0, good.writerIndex()));
            assertEquals(Dhcp4.DISCOVER, idx.messageType());
            assertEquals(0x0A00_0005, idx.requestedIp());
            assertEquals(WireError.BAD_OPTION, idx.index(bad, 0, bad.writerIndex()));
            assertFalse(idx.isValid());
            assertEquals(-1, idx.messageType());
            assertEquals(0, idx.requestedIp());
            assertFalse(idx.has(Dhcp4Option.MESSAGE_TYPE));
            assertEquals(0, idx.index(good, 0, good.writerIndex()), "and the index is reusable after it");
            assertEquals(Dhcp4.DISCOVER, idx.messageType());
        } finally {
            good.release();
            bad.release();
        }
    }
}
