package dev.kiln.rpc;

/**
 * CRC-16/CCITT-FALSE (poly 0x1021, MSB first, initial 0xFFFF, no final XOR), the CRC of microTVM
 * frames. Check value: CRC("123456789") = 0x29B1.
 */
public final class Crc16 {
  public static final int INITIAL = 0xFFFF;
  private static final int[] TABLE = new int[256];

  static {
    for (int i = 0; i < 256; i++) {
      int c = i << 8;
      for (int b = 0; b < 8; b++) c = (c & 0x8000) != 0 ? (c << 1) ^ 0x1021 : c << 1;
      TABLE[i] = c & 0xFFFF;
    }
  }

  private Crc16() {}

  public static int update(int crc, byte[] data, int off, int len) {
    for (int i = off; i < off + len; i++) crc = ((crc << 8) ^ TABLE[((crc >>> 8) ^ data[i]) & 0xFF]) & 0xFFFF;
    return crc;
  }

  public static int update(int crc, int b) {
    return ((crc << 8) ^ TABLE[((crc >>> 8) ^ b) & 0xFF]) & 0xFFFF;
  }

  public static int of(byte[] data) { return update(INITIAL, data, 0, data.length); }
}
