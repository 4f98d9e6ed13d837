package dev.kiln.rpc;

import static dev.kiln.rpc.WireVectors.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FramingTest {
  static String hexOf(byte[] b) { return HexFormat.ofDelimiter(" ").formatHex(b); }

  /** Decodes a stream fed whole, byte by byte and in random pieces; all three must agree. */
  static List<byte[]> decodeAllWays(byte[] wire) {
    List<byte[]> whole = decode(wire, wire.length, null);
    List<byte[]> single = decode(wire, 1, null);
    List<byte[]> random = decode(wire, 0, new Random(42));
    assertEquals(whole.size(), single.size());
    assertEquals(whole.size(), random.size());
    for (int i = 0; i < whole.size(); i++) {
      assertArrayEquals(whole.get(i), single.get(i));
      assertArrayEquals(whole.get(i), random.get(i));
    }
    return whole;
  }

  static List<byte[]> decode(byte[] wire, int piece, Random random) {
    Unframer u = new Unframer(1 << 20);
    int i = 0;
    while (i < wire.length) {
      int n = random != null ? 1 + random.nextInt(7) : piece;
      n = Math.min(n, wire.length - i);
      u.feed(wire, i, n);
      i += n;
    }
    List<byte[]> out = new ArrayList<>();
    byte[] f;
    while ((f = u.poll()) != null) out.add(f);
    return out;
  }

  @Test void crcMatchesTheCcittFalseCheckValues() {
    assertEquals(0xFFFF, Crc16.of(new byte[0]));
    assertEquals(0xB915, Crc16.of("A".getBytes(StandardCharsets.US_ASCII)));
    assertEquals(0x29B1, Crc16.of("123456789".getBytes(StandardCharsets.US_ASCII)));
    assertEquals(0xFF00, Crc16.of(hex("ff")));
    assertEquals(0x0000, Crc16.of(hex("ff ff")));
    assertEquals(0x2042, Crc16.of(hex("ff fd")));
    assertEquals(0x7766, Crc16.of(hex("ff fd 03 00 00 00 00 00 02")));
    assertEquals(0x5ADF, Crc16.of(hex("ff fd 04 00 00 00 42 00 00 01")));
    assertEquals(0xB678, Crc16.of(hex("ff fd 04 00 00 00 42 23 01 01")));
    assertEquals(0xF458, Crc16.of(hex("ff fd 03 00 00 00 6f 6e 65")));
  }

  @Test void framerWritesTheUpstreamVectorsByteForByte() {
    assertEquals(FRAME_ONE, hexOf(Framer.encode("one".getBytes(), 0, 3, false)));
    assertEquals(FRAME_TWO2, hexOf(Framer.encode("two2".getBytes(), 0, 4, false)));
    assertEquals(FRAME_THREE, hexOf(Framer.encode("three".getBytes(), 0, 5, false)));
    assertEquals(FRAME_EMPTY, hexOf(Framer.encode(new byte[0], 0, 0, false)));
    assertEquals(FRAME_SINGLE_FF_FRESH, hexOf(new Framer().frame(hex("ff"))));
  }

  @Test void aFreshFramerPrefixesOnlyItsFirstFrameWithFe() {
    Framer f = new Framer();
    assertEquals(BOOT, hexOf(f.frame(hex("00 00 02"))));
    assertEquals(INIT_42, hexOf(f.frame(hex("42 00 00 01"))));
    f.reset();
    assertEquals("fe " + INIT_42, hexOf(f.frame(hex("42 00 00 01"))));
  }

  @Test void framerDoublesEveryFfInLengthPayloadAndCrcButNotTheStart() {
    // 2.1: payload with ff ff; 2.3: CRC 0x63FF sent as ff ff 63
    byte[] echo = decodeAllWays(hex(ECHO_FF_REQ)).get(0);
    assertEquals(43, echo.length);
    assertEquals(ECHO_FF_REQ, hexOf(Framer.encode(echo, 0, echo.length, false)));
    byte[] crc104 = decodeAllWays(hex(STRLEN_CRC104_REQ)).get(0);
    assertEquals(STRLEN_CRC104_REQ, hexOf(Framer.encode(crc104, 0, crc104.length, false)));
    assertTrue(STRLEN_CRC104_REQ.endsWith("ff ff 63"));
    // 2.4 device side: CRC 0xFBFF sent as ff ff fb
    byte[] d63 = decodeAllWays(hex(ECHO_D63_REPLY)).get(0);
    assertEquals(ECHO_D63_REPLY, hexOf(Framer.encode(d63, 0, d63.length, false)));
    // 2.2: a 255-byte payload's length goes out as ff ff 00 00 00
    byte[] frame255 = Framer.encode(new byte[255], 0, 255, false);
    assertEquals("ff fd ff ff 00 00 00", hexOf(Arrays.copyOf(frame255, 7)));
    assertTrue(LONG_LENGTH_REPLY_HEAD.startsWith("ff fd ff ff 00 00 00 42 23 10"));
  }

  @Test void unframerDecodesEveryRecordedFrameWholeByteByByteAndInPieces() {
    for (String v : List.of(ECHO_FF_REPLY, STRLEN_CRC104_REPLY, ECHO_D63_REPLY, COPY_FROM_FF_ACK, GET_SYSLIB_REPLY,
        MAX_PACKET_CALL_REPLY, MODGETFN_ADD_REPLY, ADD_INT_REPLY, MUL_FLOAT_REPLY, FAIL_REPLY, GET_ATTR_REPLY,
        LOG_FRAME, CHECK_FAILED_LOG, GET_INPUT_REPLY, TIME_EVAL_REPLY, TIME_EVAL_CALL_REPLY, BOOT, REPLY_2342)) {
      byte[] wire = hex(v);
      List<byte[]> frames = decodeAllWays(wire);
      assertEquals(1, frames.size(), v);
      // re-encoding gives the same bytes (minus a leading fe)
      String expected = v.startsWith("fe ") ? v.substring(3) : v;
      assertEquals(expected, hexOf(Framer.encode(frames.get(0), 0, frames.get(0).length, false)));
    }
  }

  @Test void unframerUnescapesFfInsideTheCopyAckPayload() {
    byte[] p = decodeAllWays(hex(COPY_FROM_FF_ACK)).get(0);
    byte[] data = Arrays.copyOfRange(p, p.length - 12, p.length);
    assertEquals("ff ff ff ff ff ff ff ff 00 fd fe ff", hexOf(data));
  }

  @Test void ffFeInsideAFrameIsDroppedButCountsInTheCrc() {
    byte[] withNop = decodeAllWays(hex(SYSLIB_WITH_FFFE_REQ)).get(0);
    byte[] plain = decodeAllWays(hex(GET_SYSLIB_REQ)).get(0);
    assertArrayEquals(plain, withNop);
  }

  @Test void aFrameWithABadCrcIsDroppedWholeWithoutDisturbingTheNext() {
    Unframer u = new Unframer(4096);
    byte[] bad = hex(BAD_CRC_REQ);
    byte[] good = hex(GET_MAX_PACKET_REQ);
    u.feed(bad, 0, bad.length);
    u.feed(good, 0, good.length);
    byte[] f = u.poll();
    assertArrayEquals(decodeAllWays(good).get(0), f);
    assertNull(u.poll());
    assertEquals("frame of 48 bytes failed its CRC (0xfe63 on the wire, 0xfe62 computed); dropped", u.pollProblem());
  }

  @Test void aCrcComputedOverUnescapedBytesIsRejected() {
    Unframer u = new Unframer(4096);
    byte[] wire = hex(UNESCAPED_CRC_REQ);
    u.feed(wire, 0, wire.length);
    assertNull(u.poll());
    assertTrue(u.pollProblem().startsWith("frame of 40 bytes failed its CRC"));
  }

  @Test void aNewStartInsideAFrameDropsTheCutFrameAndKeepsTheNewOne() {
    byte[] cut = hex("ff fd 30 00 00 00 42 23 10 25 00 00");
    byte[] good = hex(GET_SYSLIB_REQ);
    Unframer u = new Unframer(4096);
    u.feed(cut, 0, cut.length);
    u.feed(good, 0, good.length);
    assertArrayEquals(decodeAllWays(good).get(0), u.poll());
    assertEquals("frame cut short: a new frame started after 6 of 48 payload bytes; dropped", u.pollProblem());
  }

  @Test void anInvalidEscapeDropsTheFrameAndHuntsForTheNext() {
    byte[] wire = hex("ff fd 05 00 ff 01 00 " + FRAME_ONE);
    Unframer u = new Unframer(4096);
    u.feed(wire, 0, wire.length);
    assertEquals("one", new String(u.poll()));
    assertEquals("invalid escape ff 01 inside a frame; dropped", u.pollProblem());
  }

  @Test void bytesBetweenFramesAreSkippedAndReportedOnce() {
    byte[] wire = hex("68 65 6c 6c 6f fe " + FRAME_ONE);
    Unframer u = new Unframer(4096);
    u.feed(wire, 0, wire.length);
    assertEquals("one", new String(u.poll()));
    assertEquals("5 bytes outside frames ignored: 68 65 6c 6c 6f", u.pollProblem());
    assertNull(u.pollProblem());
  }

  @Test void aLengthOverTheLimitIsTreatedAsGarbage() {
    byte[] wire = hex("ff fd 00 00 00 10 01 02 " + FRAME_TWO2);
    Unframer u = new Unframer(1024);
    u.feed(wire, 0, wire.length);
    assertEquals("two2", new String(u.poll()));
    assertEquals("frame declares 268435456 payload bytes, more than the limit of 1024; dropped (garbage on the link?)",
        u.pollProblem());
  }

  @Test void zeroLengthFramesAreLegal() {
    List<byte[]> f = decodeAllWays(hex(FRAME_EMPTY + " " + FRAME_ONE));
    assertEquals(2, f.size());
    assertEquals(0, f.get(0).length);
  }

  /** The frame as the byte-at-a-time definition has it: the reference the bulk framer must match. */
  static byte[] slowFrame(byte[] payload, boolean leadingNop) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    if (leadingNop) out.write(0xFE);
    out.write(0xFF);
    out.write(0xFD);
    java.io.ByteArrayOutputStream fields = new java.io.ByteArrayOutputStream();
    byte[] len = {(byte) payload.length, (byte) (payload.length >>> 8), (byte) (payload.length >>> 16), (byte) (payload.length >>> 24)};
    for (byte b : len) escapeInto(fields, b);
    for (byte b : payload) escapeInto(fields, b);
    int crc = slowCrc(0xFFFF, new byte[] {(byte) 0xFF, (byte) 0xFD});
    crc = slowCrc(crc, fields.toByteArray());
    out.writeBytes(fields.toByteArray());
    escapeInto(out, (byte) crc);
    escapeInto(out, (byte) (crc >>> 8));
    return out.toByteArray();
  }

  private static void escapeInto(java.io.ByteArrayOutputStream out, byte b) {
    out.write(b);
    if (b == (byte) 0xFF) out.write(b);
  }

  /** Bit by bit, straight from the polynomial. */
  static int slowCrc(int crc, byte[] data) {
    for (byte b : data) {
      crc ^= (b & 0xFF) << 8;
      for (int i = 0; i < 8; i++) crc = (crc & 0x8000) != 0 ? ((crc << 1) ^ 0x1021) & 0xFFFF : (crc << 1) & 0xFFFF;
    }
    return crc;
  }

  @Test void slicedCrcAgreesWithTheBitwiseDefinitionAtEveryLengthAndOffset() {
    Random r = new Random(7);
    byte[] data = new byte[300];
    r.nextBytes(data);
    for (int off = 0; off < 20; off++) {
      for (int len = 0; off + len <= data.length; len += 1 + len / 8) {
        int start = r.nextInt(0x10000);
        assertEquals(slowCrc(start, Arrays.copyOfRange(data, off, off + len)), Crc16.update(start, data, off, len),
            "off " + off + " len " + len);
      }
    }
  }

  @Test void escapeSearchFindsTheFirstFfAnywhereInAWord() {
    for (int len = 0; len < 40; len++) {
      for (int at = 0; at <= len; at++) {
        byte[] data = new byte[len + 3];
        Arrays.fill(data, (byte) 0xFE);
        if (at < len) data[1 + at] = (byte) 0xFF;
        data[len + 2] = (byte) 0xFF; // beyond the range: never found
        data[0] = (byte) 0xFF; // before the range: never found
        assertEquals(1 + at, Crc16.indexOfEscape(data, 1, 1 + len), "len " + len + " at " + at);
      }
    }
  }

  @Test void bigFramesStreamedInChunksMatchTheByteWiseDefinitionAndDecodeBack() throws java.io.IOException {
    Random r = new Random(11);
    for (int size : new int[] {0, 1, 255, Framer.CHUNK - 7, Framer.CHUNK, 3 * Framer.CHUNK + 5, 65536 + 11}) {
      for (int ffShare : new int[] {0, 1, 2, 256}) { // none, all FF, half, one in 256 (random)
        byte[] payload = new byte[size];
        for (int i = 0; i < size; i++) {
          payload[i] = ffShare == 0 ? (byte) (r.nextInt(255)) : ffShare == 1 ? (byte) 0xFF
              : ffShare == 2 ? (byte) (r.nextBoolean() ? 0xFF : r.nextInt(255)) : (byte) r.nextInt(256);
        }
        java.io.ByteArrayOutputStream wire = new java.io.ByteArrayOutputStream();
        List<Integer> pieces = new ArrayList<>();
        Framer f = new Framer();
        f.start(size, (b, off, len) -> {
          wire.write(b, off, len);
          pieces.add(len);
        });
        int half = size / 3;
        f.payload(payload, 0, half);
        f.payload(payload, half, size - half);
        f.finish();
        assertArrayEquals(slowFrame(payload, true), wire.toByteArray(), "size " + size + " ff " + ffShare);
        for (int piece : pieces) assertTrue(piece <= Framer.CHUNK + 64, "piece of " + piece);
        List<byte[]> back = decode(wire.toByteArray(), 4093, null);
        assertEquals(1, back.size());
        assertArrayEquals(payload, back.get(0));
      }
    }
  }

  @Test void framesTakenOneByOneFromAReusedBufferAreTheFramesFedWhole() {
    byte[] wire = hex(FRAME_ONE + " " + FRAME_EMPTY + " " + LOG_FRAME + " " + FRAME_THREE);
    Unframer u = new Unframer(4096);
    List<String> got = new ArrayList<>();
    int off = 0;
    while (off < wire.length) {
      off += u.feedFrame(wire, off, Math.min(5, wire.length - off));
      if (u.frameReady()) got.add(hexOf(Arrays.copyOf(u.frameBuffer(), u.frameLength())));
    }
    List<String> whole = new ArrayList<>();
    for (byte[] f : decodeAllWays(wire)) whole.add(hexOf(f));
    assertEquals(whole, got);
    assertEquals(4, got.size());
  }
}
