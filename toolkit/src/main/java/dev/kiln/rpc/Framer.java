package dev.kiln.rpc;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Turns payloads into microTVM frames: {@code [FE] FF FD len32 payload crc16}, with every FF inside
 * length, payload and CRC doubled, and the CRC over FF FD plus the escaped length and payload. The
 * first frame after construction or {@link #reset()} starts with the nop byte FE, like microTVM's
 * framer. Not thread-safe.
 *
 * <p>A frame is streamed ({@link #start}, {@link #payload} any number of times, {@link #finish}):
 * runs between FF bytes are found and CRC'd in one pass, 16 bytes per step, and copied in bulk into
 * one reused buffer, and every {@value #CHUNK} bytes go to the sink: a 64 KiB packet's frame in one
 * or two writes. (16 KiB pieces let the peer start decoding a big frame early, but cost a write and a
 * wake-up of the peer each: about a fifth of both processes' CPU time at 64 KiB packets.) Where
 * {@link NativeLink} is loaded, the escaping and the CRC of payload runs are done in C, one call per
 * buffer's worth; the bytes are the same either way.
 */
public final class Framer {
  /** What frames are written to ({@link dev.kiln.transport.Transport#write} fits). */
  @FunctionalInterface
  public interface Sink {
    void write(byte[] bytes, int off, int len) throws IOException;
  }

  static final int CHUNK = 64 << 10;

  private final boolean nativeLink;
  private boolean fresh = true;
  private final byte[] out = new byte[CHUNK + 64];
  private int size;
  private int crcFrom;
  private int crc;
  private long remaining = -1;
  private Sink sink;

  /** A framer that escapes and CRCs in C where {@link NativeLink} is loaded, in Java otherwise. */
  public Framer() { this(true); }

  /** {@code nativeLink} false keeps the Java loops even where the library is loaded (tests compare the two). */
  Framer(boolean nativeLink) { this.nativeLink = nativeLink && NativeLink.available(); }

  /** True when this framer's payload goes through {@link NativeLink}. */
  boolean usesNative() { return nativeLink; }

  /** The next frame gets a leading FE again (after a write error, say). */
  public void reset() { fresh = true; }

  public byte[] frame(byte[] payload) { return frame(payload, 0, payload.length); }

  public byte[] frame(byte[] payload, int off, int len) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(len + 16);
    try {
      start(len, bytes::write);
      payload(payload, off, len);
      finish();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return bytes.toByteArray();
  }

  /** One frame, with or without the leading FE. */
  public static byte[] encode(byte[] payload, int off, int len, boolean leadingNop) {
    Framer f = new Framer();
    f.fresh = leadingNop;
    return f.frame(payload, off, len);
  }

  /** Begins a frame of {@code payloadLength} bytes written to {@code sink}. */
  public void start(int payloadLength, Sink sink) throws IOException {
    if (payloadLength < 0) throw new IllegalArgumentException("payloadLength < 0: " + payloadLength);
    this.sink = sink;
    size = 0;
    if (fresh) out[size++] = (byte) 0xFE;
    fresh = true; // until finish: a frame cut short by a failed write leaves the framer fresh
    crcFrom = size;
    crc = Crc16.INITIAL;
    out[size++] = (byte) 0xFF;
    out[size++] = (byte) 0xFD;
    for (int i = 0; i < 4; i++) put((byte) (payloadLength >>> (8 * i)));
    remaining = payloadLength;
  }

  private void put(byte b) {
    out[size++] = b;
    if (b == (byte) 0xFF) out[size++] = b;
  }

  /** Appends payload bytes; more than the length given to {@link #start} is an error. */
  public void payload(byte[] src, int off, int len) throws IOException {
    if (sink == null) throw new IllegalStateException("no frame started: call start first");
    if (len > remaining) {
      throw new IllegalStateException("payload exceeds the frame: " + len + " more bytes, " + remaining + " declared");
    }
    remaining -= len;
    fold();
    int end = off + len;
    if (nativeLink && len >= NativeLink.MIN_RUN) {
      while (off < end) { // fills the buffer up to its end (room >= 2 after every drain), then drains
        long r = NativeLink.escape(crc, src, off, end - off, out, size, out.length);
        crc = (int) r & 0xFFFF;
        off += (int) (r >>> 16) & 0xFFFFFF;
        size += (int) (r >>> 40);
        crcFrom = size;
        if (size >= CHUNK) drain();
      }
      return;
    }
    while (off < end) {
      int stop = Math.min(end, off + (out.length - 2 - size));
      long r = Crc16.updateUntilEscape(crc, src, off, stop);
      int ff = (int) (r >>> 16);
      crc = (int) r & 0xFFFF;
      System.arraycopy(src, off, out, size, ff - off);
      size += ff - off;
      off = ff;
      if (ff < stop) { // the escape, doubled, twice into the CRC
        out[size++] = (byte) 0xFF;
        out[size++] = (byte) 0xFF;
        crc = Crc16.update(Crc16.update(crc, 0xFF), 0xFF);
        off++;
      }
      crcFrom = size;
      if (size >= CHUNK) drain();
    }
  }

  /** Takes the bytes put since {@code crcFrom} (frame start and length) into the CRC. */
  private void fold() {
    crc = Crc16.update(crc, out, crcFrom, size - crcFrom);
    crcFrom = size;
  }

  private void drain() throws IOException {
    fold();
    sink.write(out, 0, size);
    size = 0;
    crcFrom = 0;
  }

  /** Appends the CRC and writes what is left of the frame (not flushed). */
  public void finish() throws IOException {
    if (sink == null) throw new IllegalStateException("no frame started: call start first");
    if (remaining != 0) {
      throw new IllegalStateException("frame incomplete: " + remaining + " of its declared payload bytes missing");
    }
    remaining = -1;
    fold();
    put((byte) crc);
    put((byte) (crc >>> 8));
    crcFrom = size;
    sink.write(out, 0, size);
    size = 0;
    sink = null;
    fresh = false;
  }
}
