package dev.pktkit.openvpn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The framings of OpenVPN's compression stubs, both ways, and compressed input refused. */
class CompressionTest {
    static ByteBuf b(int... v) {
        ByteBuf x = Unpooled.buffer();
        for (int i : v) {
            x.writeByte(i);
        }
        return x;
    }

    static String framed(Compression c, int... v) {
        ByteBuf out = c.frame(ByteBufAllocator.DEFAULT, b(v));
        String h = ByteBufUtil.hexDump(out);
        assertTrue(c.unframe(out), "round trip");
        assertEquals(ByteBufUtil.hexDump(b(v)), ByteBufUtil.hexDump(out));
        out.release();
        return h;
    }

    @Test
    void framesAsOpenVpnsStubsDo() {
        assertEquals("45000102", framed(Compression.STUB_V2, 0x45, 0, 1, 2), "stub-v2 leaves IP packets alone");
        assertEquals("50005001", framed(Compression.STUB_V2, 0x50, 0x01), "and escapes a leading 0x50");
        assertEquals("fa450001", framed(Compression.LZO_NO, 0x45, 0, 1));
        assertEquals("fb000145", framed(Compression.STUB, 0x45, 0, 1), "v1 swap: first byte to the end");
        ByteBuf same = b(0x60, 1);
        assertSame(same, Compression.STUB_V2.frame(ByteBufAllocator.DEFAULT, same), "no copy when nothing changes");
        same.release();
    }

    @Test
    void compressedOrMisframedPacketsAreRefused() {
        assertFalse(Compression.STUB_V2.unframe(b(0x50, 0x01, 0xaa)), "stub-v2 LZ4-compressed");
        assertFalse(Compression.LZO_NO.unframe(b(0x66, 0xaa)), "LZO-compressed");
        assertFalse(Compression.STUB.unframe(b(0x69, 0xaa)), "LZ4 v1");
        assertFalse(Compression.STUB_V2.unframe(b(0x50)), "truncated escape");
        assertTrue(Compression.NONE.unframe(b(0x50, 0x01)));
    }
}
