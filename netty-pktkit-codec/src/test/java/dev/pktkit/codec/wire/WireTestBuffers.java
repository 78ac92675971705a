package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

/** Test helpers: hex with comments to bytes, and the same bytes in every buffer kind. */
final class WireTestBuffers {
    private WireTestBuffers() {
    }

    /**
     * Bytes from hex text. Whitespace, '|' and '_' are ignored, and so is everything from '#' to the end of a
     * line, so tests can annotate each field.
     */
    static byte[] hex(String text) {
        StringBuilder sb = new StringBuilder();
        for (String line : text.split("\n")) {
            int hash = line.indexOf('#');
            if (hash >= 0) {
                line = line.substring(0, hash);
            }
            for (char c : line.toCharArray()) {
                if (!Character.isWhitespace(c) && c != '|' && c != '_') {
                    sb.append(c);
                }
            }
        }
        return HexFormat.of().parseHex(sb);
    }

    static String toHex(ByteBuf buf, int off, int len) {
        byte[] b = new byte[len];
        buf.getBytes(off, b);
        return HexFormat.of().formatHex(b);
    }

    static String toHex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /** The bytes of a captured frame from {@code from} on (e.g. 14 to skip the Ethernet header). */
    static byte[] frame(String capturedHex, int from) {
        byte[] all = HexFormat.of().parseHex(capturedHex);
        return java.util.Arrays.copyOfRange(all, from, all.length);
    }

    static String toHex(ByteBuf buf) {
        return toHex(buf, buf.readerIndex(), buf.readableBytes());
    }

    /** Kinds of buffer a view must handle alike. */
    enum Kind {
        HEAP, DIRECT, POOLED_DIRECT, COMPOSITE_ODD_SPLIT, SLICE_AT_OFFSET,
        /** Pooled heap: array-backed with a non-zero array offset into the arena's chunk. */
        POOLED_HEAP,
        /** A slice of a heap buffer starting at 9: array-backed, arrayOffset 9, indices from 0. */
        HEAP_SLICE,
        /** A read-only view of a heap buffer: no accessible array, so the views use the getters. */
        READ_ONLY_HEAP
    }

    /**
     * {@code data} in a buffer of {@code kind}; the bytes start at the returned buffer's readerIndex (which is 7
     * for SLICE_AT_OFFSET's parent region, so absolute offsets differ from 0). Caller releases.
     */
    static ByteBuf of(Kind kind, byte[] data) {
        ByteBufAllocator pooled = PooledByteBufAllocator.DEFAULT;
        switch (kind) {
            case HEAP:
                return Unpooled.buffer(data.length).writeBytes(data);
            case DIRECT:
                return Unpooled.directBuffer(data.length).writeBytes(data);
            case POOLED_DIRECT:
                return pooled.directBuffer(data.length).writeBytes(data);
            case COMPOSITE_ODD_SPLIT: {
                CompositeByteBuf c = Unpooled.compositeBuffer();
                int[] cuts = {0, Math.min(3, data.length), Math.min(14, data.length), Math.min(33, data.length),
                        data.length};
                for (int i = 0; i + 1 < cuts.length; i++) {
                    int len = cuts[i + 1] - cuts[i];
                    ByteBuf part = (i % 2 == 0 ? Unpooled.directBuffer(len) : Unpooled.buffer(len));
                    part.writeBytes(data, cuts[i], len);
                    c.addComponent(true, part);
                }
                return c;
            }
            case SLICE_AT_OFFSET: {
                ByteBuf b = Unpooled.buffer(data.length + 7);
                b.writeZero(7);
                b.writeBytes(data);
                b.readerIndex(7);
                return b;
            }
            case POOLED_HEAP:
                return pooled.heapBuffer(data.length).writeBytes(data);
            case HEAP_SLICE: {
                ByteBuf b = Unpooled.buffer(data.length + 9);
                b.writeZero(9);
                b.writeBytes(data);
                return b.slice(9, data.length); // shares the parent's reference count
            }
            case READ_ONLY_HEAP:
                return Unpooled.buffer(data.length).writeBytes(data).asReadOnly();
            default:
                throw new AssertionError(kind);
        }
    }

    /** Runs {@code test} on {@code data} in every buffer kind, releasing each buffer afterwards. */
    static void forEachKind(byte[] data, Consumer<ByteBuf> test) {
        for (Kind k : Kind.values()) {
            ByteBuf b = of(k, data);
            try {
                test.accept(b);
            } catch (AssertionError e) {
                throw new AssertionError("buffer kind " + k + ": " + e.getMessage(), e);
            } finally {
                b.release();
            }
        }
    }

    /**
     * Runs {@code test} on every prefix of {@code data} (lengths 0 .. length-1) in a heap buffer placed at
     * readerIndex 5, for truncation tests. The buffer's writerIndex ends the prefix but its capacity holds the
     * whole packet, so a view that reads past writerIndex would see plausible bytes and give itself away.
     */
    static void forEachTruncation(byte[] data, java.util.function.BiConsumer<ByteBuf, Integer> test) {
        for (int len = 0; len < data.length; len++) {
            ByteBuf b = Unpooled.buffer(data.length + 5);
            try {
                b.writeZero(5);
                b.writeBytes(data);
                b.readerIndex(5);
                b.writerIndex(5 + len);
                test.accept(b, len);
            } finally {
                b.release();
            }
        }
    }

    /** Collects buffers to release at the end of a test. */
    static final class Pool implements AutoCloseable {
        private final List<ByteBuf> bufs = new ArrayList<>();

        ByteBuf track(ByteBuf b) {
            bufs.add(b);
            return b;
        }

        ByteBuf heap(byte[] data) {
            return track(Unpooled.buffer(data.length).writeBytes(data));
        }

        ByteBuf heap(int capacity) {
            return track(Unpooled.buffer(capacity));
        }

        @Override
        public void close() {
            for (ByteBuf b : bufs) {
                b.release();
            }
        }
    }
}
