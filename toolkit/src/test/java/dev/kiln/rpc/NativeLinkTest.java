package dev.kiln.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The native framing helper against the Java loops it replaces: same frames, same payloads, same
 * drops and reports, for random payloads rich in escape bytes and random damage, fed in random
 * pieces. The replay and RPC tests run on whichever path is loaded; {@code -Dkiln.link.native=false}
 * runs them on the Java one.
 */
class NativeLinkTest {
  @Test void theHelperBuildsAndLoadsWhereGccAndLinuxAre() {
    if ("false".equalsIgnoreCase(System.getProperty("kiln.link.native"))) {
      assertFalse(NativeLink.available());
      assertFalse(new Framer().usesNative());
      return;
    }
    // CI and every supported development machine are Linux with gcc: the helper must be in use there
    assertTrue(NativeLink.available(), NativeLink.status());
    assertTrue(new Framer().usesNative());
    assertTrue(new Unframer(100).usesNative());
    assertFalse(new Framer(false).usesNative());
    assertFalse(new Unframer(100, false).usesNative());
  }

  @Test void nativeCrcAgreesWithTheBitwiseDefinitionAtEveryLengthAndOffset() {
    if (!NativeLink.available()) return; // the Java CRC is checked by FramingTest
    Random r = new Random(3);
    byte[] data = new byte[700];
    r.nextBytes(data);
    for (int off = 0; off < 20; off++) {
      for (int len = 0; off + len <= data.length; len += 1 + len / 6) {
        int start = r.nextInt(0x10000);
        assertEquals(FramingTest.slowCrc(start, Arrays.copyOfRange(data, off, off + len)),
            NativeLink.crc(start, data, off, len), "off " + off + " len " + len);
      }
    }
  }

  @Test void rangesOutsideTheArraysThrowBeforeTheNativeCodeTouchesMemory() {
    if (!NativeLink.available()) return;
    byte[] small = new byte[16];
    byte[] big = new byte[4096];
    // offsets past the end, negative offsets and lengths: each would read or write outside the array in C
    assertThrows(IndexOutOfBoundsException.class, () -> NativeLink.crc(0, small, 8, 9));
    assertThrows(IndexOutOfBoundsException.class, () -> NativeLink.crc(0, small, -1, 4));
    assertThrows(IndexOutOfBoundsException.class, () -> NativeLink.escape(0, big, 4000, 97, small, 0, 16));
    assertThrows(IndexOutOfBoundsException.class, () -> NativeLink.escape(0, big, 0, 1000, small, 0, 17));
    assertThrows(IndexOutOfBoundsException.class, () -> NativeLink.escape(0, big, 0, 1000, small, 10, 5));
    assertThrows(IndexOutOfBoundsException.class, () -> NativeLink.unescape(0, big, 0, 4097, small, 0, 16));
    assertThrows(IndexOutOfBoundsException.class, () -> NativeLink.unescape(0, big, 0, 1000, small, 8, 9));
    assertThrows(IndexOutOfBoundsException.class, () -> NativeLink.unescape(0, big, -2, 1000, small, 0, 16));
    // the same calls inside the arrays go through
    assertEquals(Crc16.update(0, small, 8, 8), NativeLink.crc(0, small, 8, 8));
    assertEquals(15L, NativeLink.escape(0, big, 0, 1000, small, 0, 16) >>> 40); // the last byte kept for a doubled FF
    assertEquals(16L, NativeLink.unescape(0, big, 0, 1000, small, 0, 16) >>> 40);
  }

  /** A payload of {@code size} bytes whose FF share is one of: none, all, half, random bytes. */
  static byte[] payload(Random r, int size, int kind) {
    byte[] p = new byte[size];
    for (int i = 0; i < size; i++) {
      p[i] = switch (kind) {
        case 0 -> (byte) r.nextInt(255);
        case 1 -> (byte) 0xFF;
        case 2 -> (byte) (r.nextBoolean() ? 0xFF : 0xFD + r.nextInt(2)); // FF next to FD and FE
        default -> (byte) r.nextInt(256);
      };
    }
    return p;
  }

  private static byte[] frame(Framer f, byte[] payload, Random pieces) throws IOException {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    f.start(payload.length, wire::write);
    int off = 0;
    while (off < payload.length) {
      int n = Math.min(payload.length - off, pieces.nextBoolean() ? 1 + pieces.nextInt(40) : 1 + pieces.nextInt(40_000));
      f.payload(payload, off, n);
      off += n;
    }
    f.finish();
    return wire.toByteArray();
  }

  @Test void nativeAndJavaFramersWriteTheSameBytesAsTheDefinition() throws IOException {
    if (!NativeLink.available()) return;
    Random r = new Random(15);
    Framer java = new Framer(false);
    Framer c = new Framer(true);
    for (int round = 0; round < 300; round++) {
      int size = round % 10 == 0 ? r.nextInt(3 * Framer.CHUNK) : r.nextInt(600);
      byte[] p = payload(r, size, round % 4);
      long seed = r.nextLong();
      byte[] a = frame(java, p, new Random(seed));
      byte[] b = frame(c, p, new Random(seed + 1)); // different cuts, same frame
      assertArrayEquals(a, b, "round " + round + ", " + size + " bytes");
      assertArrayEquals(FramingTest.slowFrame(p, round == 0), b, "round " + round);
    }
  }

  /** Frames of random payloads with random damage: flipped bytes, cut frames, stray escapes, garbage. */
  private static byte[] damagedStream(Random r) throws IOException {
    ByteArrayOutputStream s = new ByteArrayOutputStream();
    Framer f = new Framer(false);
    for (int i = 0; i < 12; i++) {
      byte[] frame = f.frame(payload(r, r.nextInt(5) == 0 ? r.nextInt(20_000) : r.nextInt(300), r.nextInt(4)));
      switch (r.nextInt(6)) {
        case 0 -> frame[r.nextInt(frame.length)] ^= (byte) (1 << r.nextInt(8));
        case 1 -> frame = Arrays.copyOf(frame, r.nextInt(frame.length)); // cut: the next FF FD ends it
        case 2 -> { // an FF FE nop, an invalid escape or a new start inside
          int at = 7 + r.nextInt(Math.max(1, frame.length - 9));
          if (at < frame.length) {
            byte[] b = new byte[frame.length + 2];
            System.arraycopy(frame, 0, b, 0, at);
            b[at] = (byte) 0xFF;
            b[at + 1] = (byte) new int[] {0xFE, 0x01, 0xFD}[r.nextInt(3)];
            System.arraycopy(frame, at, b, at + 2, frame.length - at);
            frame = b;
          }
        }
        case 3 -> s.write(payload(r, r.nextInt(20), 3)); // garbage between frames
        default -> { }
      }
      s.write(frame);
    }
    return s.toByteArray();
  }

  private static List<String> decode(Unframer u, byte[] wire, Random pieces) {
    List<String> events = new ArrayList<>();
    int off = 0;
    while (off < wire.length) {
      int n = Math.min(wire.length - off, pieces.nextBoolean() ? 1 + pieces.nextInt(8) : 1 + pieces.nextInt(70_000));
      int end = off + n;
      while (off < end) {
        off += u.feedFrame(wire, off, end - off);
        String p;
        while ((p = u.pollProblem()) != null) events.add(p); // a call stops at a frame: its problems came first
        if (u.frameReady()) events.add("frame " + FramingTest.hexOf(Arrays.copyOf(u.frameBuffer(), u.frameLength())));
      }
    }
    return events;
  }

  /** Events cut to 40 characters each, for messages. */
  private static List<String> shortly(List<String> events) {
    return events.stream().map(e -> e.length() > 40 ? e.substring(0, 40) + "..." : e).toList();
  }

  @Test void nativeAndJavaUnframersAgreeOnDamagedStreamsCutAnywhere() throws IOException {
    if (!NativeLink.available()) return;
    Random r = new Random(16);
    int frames = 0;
    for (int round = 0; round < 200; round++) {
      byte[] wire = damagedStream(r);
      long seed = r.nextLong();
      List<String> java = decode(new Unframer(1 << 16, false), wire, new Random(seed));
      List<String> c = decode(new Unframer(1 << 16, true), wire, new Random(seed + 1)); // different cuts
      assertEquals(java.size(), c.size(), "round " + round + ": events " + shortly(java) + " / " + shortly(c));
      for (int i = 0; i < java.size(); i++) {
        assertTrue(java.get(i).equals(c.get(i)), "round " + round + ", event " + i + ": " + shortly(java) + " / " + shortly(c));
      }
      frames += (int) c.stream().filter(e -> e.startsWith("frame ")).count();
    }
    assertTrue(frames > 1000, "the streams hold good frames too: " + frames);
  }
}
