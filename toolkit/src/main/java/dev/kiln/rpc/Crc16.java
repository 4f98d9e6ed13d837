package dev.kiln.rpc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * CRC-16/CCITT-FALSE (poly 0x1021, MSB first, initial 0xFFFF, no final XOR), the CRC of microTVM
 * frames. Check value: CRC("123456789") = 0x29B1.
 *
 * <p>Slices of 16 bytes go through 16 tables at once ("slicing-by-16": table k holds a byte's CRC
 * followed by k zero bytes, and the running CRC is folded into the slice's first two bytes), which
 * breaks the one-load-per-byte dependency chain of the byte-wise table; the CRC is the largest
 * per-byte cost of the link on both ends.
 */
public final class Crc16 {
  public static final int INITIAL = 0xFFFF;
  private static final int SLICE = 16;
  /** TABLES[k * 256 + b]: CRC contribution of byte b followed by k zero bytes. */
  private static final int[] TABLES = new int[SLICE * 256];
  private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  static {
    for (int i = 0; i < 256; i++) {
      int c = i << 8;
      for (int b = 0; b < 8; b++) c = (c & 0x8000) != 0 ? (c << 1) ^ 0x1021 : c << 1;
      TABLES[i] = c & 0xFFFF;
    }
    for (int k = 1; k < SLICE; k++) {
      for (int i = 0; i < 256; i++) {
        int prev = TABLES[(k - 1) * 256 + i];
        TABLES[k * 256 + i] = ((prev << 8) ^ TABLES[prev >>> 8]) & 0xFFFF;
      }
    }
  }

  private Crc16() {}

  public static int update(int crc, byte[] data, int off, int len) {
    int i = off;
    int end = off + len;
    while (i < end) { // runs without FF through the sliced loop, each FF on its own
      long r = updateUntilEscape(crc, data, i, end);
      i = (int) (r >>> 16);
      crc = (int) r & 0xFFFF;
      if (i < end) crc = update(crc, data[i++]);
    }
    return crc;
  }

  /**
   * The CRC of {@code data[from, stop)} where {@code stop} is the first 0xFF (the frame escape) in
   * {@code data[from, to)}, or {@code to}: one pass that finds the run of plain bytes and takes its
   * CRC, 16 bytes per step through the sixteen tables. Returns {@code (long) stop << 16 | crc}.
   * The only copy of the sixteen lookups, written out in the loop: the launcher and the notebook
   * kernel run C1 only, which inlines no method this big, and a call per 16 bytes cost about 12 %.
   */
  static long updateUntilEscape(int crc, byte[] data, int from, int to) {
    int i = from;
    int[] t = TABLES;
    while (to - i >= SLICE) {
      long a = (long) LONG_LE.get(data, i);
      long b = (long) LONG_LE.get(data, i + 8);
      long xa = ~a;
      long xb = ~b;
      long found = ((xa - 0x0101010101010101L) & ~xa | (xb - 0x0101010101010101L) & ~xb) & 0x8080808080808080L;
      if (found != 0) {
        break; // an FF in these 16 bytes: the byte loop below stops at it
      }
      int lo = (int) a;
      int hi = (int) (a >>> 32);
      int c = t[15 * 256 + ((lo ^ (crc >>> 8)) & 0xFF)] ^ t[14 * 256 + (((lo >>> 8) ^ crc) & 0xFF)]
          ^ t[13 * 256 + ((lo >>> 16) & 0xFF)] ^ t[12 * 256 + (lo >>> 24)]
          ^ t[11 * 256 + (hi & 0xFF)] ^ t[10 * 256 + ((hi >>> 8) & 0xFF)]
          ^ t[9 * 256 + ((hi >>> 16) & 0xFF)] ^ t[8 * 256 + (hi >>> 24)];
      lo = (int) b;
      hi = (int) (b >>> 32);
      crc = c ^ t[7 * 256 + (lo & 0xFF)] ^ t[6 * 256 + ((lo >>> 8) & 0xFF)]
          ^ t[5 * 256 + ((lo >>> 16) & 0xFF)] ^ t[4 * 256 + (lo >>> 24)]
          ^ t[3 * 256 + (hi & 0xFF)] ^ t[2 * 256 + ((hi >>> 8) & 0xFF)]
          ^ t[256 + ((hi >>> 16) & 0xFF)] ^ t[hi >>> 24];
      i += SLICE;
    }
    for (; i < to && data[i] != (byte) 0xFF; i++) crc = ((crc << 8) ^ t[((crc >>> 8) ^ data[i]) & 0xFF]) & 0xFFFF;
    return (long) i << 16 | crc;
  }

  public static int update(int crc, int b) {
    return ((crc << 8) ^ TABLES[((crc >>> 8) ^ b) & 0xFF]) & 0xFFFF;
  }

  public static int of(byte[] data) { return update(INITIAL, data, 0, data.length); }

  /**
   * Index of the first 0xFF byte (the frame escape) in {@code data[from, to)}, or {@code to}: eight
   * bytes per step (a byte of ~word is zero exactly where the word holds FF).
   */
  static int indexOfEscape(byte[] data, int from, int to) {
    int i = from;
    while (to - i >= 8) {
      long x = ~(long) LONG_LE.get(data, i);
      long found = (x - 0x0101010101010101L) & ~x & 0x8080808080808080L;
      if (found != 0) return i + (Long.numberOfTrailingZeros(found) >>> 3);
      i += 8;
    }
    while (i < to && data[i] != (byte) 0xFF) i++;
    return i;
  }
}
