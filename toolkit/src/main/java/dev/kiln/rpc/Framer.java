package dev.kiln.rpc;

/**
 * Turns payloads into microTVM frames: {@code [FE] FF FD len32 payload crc16}, with every FF inside
 * length, payload and CRC doubled, and the CRC over FF FD plus the escaped length and payload. The
 * first frame after construction or {@link #reset()} starts with the nop byte FE, like microTVM's
 * framer. Not thread-safe.
 */
public final class Framer {
  private boolean fresh = true;

  /** The next frame gets a leading FE again (after a write error, say). */
  public void reset() { fresh = true; }

  public byte[] frame(byte[] payload) { return frame(payload, 0, payload.length); }

  public byte[] frame(byte[] payload, int off, int len) {
    byte[] out = encode(payload, off, len, fresh);
    fresh = false;
    return out;
  }

  /** One frame, with or without the leading FE. */
  public static byte[] encode(byte[] payload, int off, int len, boolean leadingNop) {
    int ffs = 0;
    for (int i = off; i < off + len; i++) if (payload[i] == (byte) 0xFF) ffs++;
    byte[] lenBytes = {(byte) len, (byte) (len >>> 8), (byte) (len >>> 16), (byte) (len >>> 24)};
    for (byte b : lenBytes) if (b == (byte) 0xFF) ffs++;
    byte[] out = new byte[(leadingNop ? 1 : 0) + 2 + 4 + len + ffs + 4];
    int p = 0;
    if (leadingNop) out[p++] = (byte) 0xFE;
    out[p++] = (byte) 0xFF;
    out[p++] = (byte) 0xFD;
    for (byte b : lenBytes) {
      out[p++] = b;
      if (b == (byte) 0xFF) out[p++] = b;
    }
    for (int i = off; i < off + len; i++) {
      byte b = payload[i];
      out[p++] = b;
      if (b == (byte) 0xFF) out[p++] = b;
    }
    int start = leadingNop ? 1 : 0;
    int crc = Crc16.update(Crc16.INITIAL, out, start, p - start);
    byte lo = (byte) crc;
    byte hi = (byte) (crc >>> 8);
    out[p++] = lo;
    if (lo == (byte) 0xFF) out[p++] = lo;
    out[p++] = hi;
    if (hi == (byte) 0xFF) out[p++] = hi;
    return p == out.length ? out : java.util.Arrays.copyOf(out, p);
  }
}
