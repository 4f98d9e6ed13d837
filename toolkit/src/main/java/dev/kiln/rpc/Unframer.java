package dev.kiln.rpc;

import java.util.ArrayDeque;
import java.util.HexFormat;

/**
 * Finds frames in a byte stream fed in pieces of any size. Stricter than microTVM's unframer and
 * never stuck: a frame with a bad CRC is dropped whole (its payload never surfaces); an invalid
 * escape, a frame cut short by a new FF FD, or a length over the limit drops the frame and hunts for
 * the next FF FD. Every drop, and bytes found outside frames, are reported as {@link #pollProblem()
 * problems}; a lone FE between frames is the framer's nop and not reported. Not thread-safe.
 */
public final class Unframer {
  private static final int HUNT = 0, LENGTH = 1, PAYLOAD = 2, CRC = 3;
  private static final int SKIPPED_SHOWN = 16;
  /** Wire bytes per native call: its counts are packed in 24 bits. */
  private static final int NATIVE_SPAN = 1 << 22;

  private final int maxPayload;
  private final boolean nativeLink;
  private final ArrayDeque<byte[]> frames = new ArrayDeque<>();
  private final ArrayDeque<String> problems = new ArrayDeque<>();
  private int state = HUNT;
  private boolean escape;
  private int crc;
  private long length;
  private int got;
  private int wireCrc;
  /** The payload being received, reused from frame to frame (grown when a frame needs more). */
  private byte[] payload = new byte[256];
  private boolean ready;
  private long skipped;
  private final byte[] skippedHead = new byte[SKIPPED_SHOWN];

  /** @param maxPayload frames declaring more payload bytes than this are dropped */
  public Unframer(int maxPayload) { this(maxPayload, true); }

  /**
   * {@code nativeLink}: decode payload runs in C where {@link NativeLink} is loaded (false keeps the
   * Java loop, for tests comparing the two).
   */
  Unframer(int maxPayload, boolean nativeLink) {
    if (maxPayload < 0) throw new IllegalArgumentException("maxPayload < 0: " + maxPayload);
    this.maxPayload = maxPayload;
    this.nativeLink = nativeLink && NativeLink.available();
  }

  /** True when this unframer's payload runs go through {@link NativeLink}. */
  boolean usesNative() { return nativeLink; }

  /** The next complete frame's payload, or null. */
  public byte[] poll() { return frames.poll(); }

  /** The next report of dropped or ignored bytes, or null. */
  public String pollProblem() { return problems.poll(); }

  public boolean hasProblem() { return !problems.isEmpty(); }

  /** Bytes seen since the last frame that belong to no frame, as text ("57 bytes: 68 65 ..."), or null. */
  public String describeSkipped() {
    if (skipped == 0) return null;
    int shown = (int) Math.min(skipped, SKIPPED_SHOWN);
    return skipped + " bytes outside frames: " + HexFormat.ofDelimiter(" ").formatHex(skippedHead, 0, shown)
        + (skipped > shown ? " ..." : "");
  }

  /** Feeds bytes; every frame they complete is queued for {@link #poll()} (a copy of its payload). */
  public void feed(byte[] data, int off, int len) {
    int end = off + len;
    while (off < end) {
      off = step(data, off, end);
      if (ready) {
        frames.add(java.util.Arrays.copyOf(payload, (int) length));
        ready = false;
      }
    }
  }

  /**
   * Feeds bytes up to and including the one that completes a frame and returns how many were
   * used. After a completed frame {@link #frameReady()} is true and the payload is {@code
   * frameBuffer()[0, frameLength())}, valid until the next feed: the buffer is reused, so a session
   * takes frames without a copy or an allocation per frame.
   */
  public int feedFrame(byte[] data, int off, int len) {
    ready = false;
    return step(data, off, off + len) - off;
  }

  public boolean frameReady() { return ready; }

  /** Payload bytes the frame being received still needs (0 outside a payload). */
  public long payloadPending() { return state == PAYLOAD ? length - got : 0; }

  public byte[] frameBuffer() { return payload; }

  public int frameLength() { return (int) length; }

  /** Decodes data[i, end) until it ends or a frame completes; returns where it stopped. */
  private int step(byte[] data, int i, int end) {
    while (i < end) {
      if (state == PAYLOAD && !escape && nativeLink && length - got >= NativeLink.MIN_RUN) { // plain bytes and FF FF pairs, decoded and CRC'd in C
        long r = NativeLink.unescape(crc, data, i, Math.min(end, i + NATIVE_SPAN), payload, got, (int) (length - got));
        int used = (int) (r >>> 16) & 0xFFFFFF;
        if (used > 0) {
          crc = (int) r & 0xFFFF;
          got += (int) (r >>> 40);
          i += used;
          if (got == length) {
            state = CRC;
            got = 0;
          }
          continue;
        }
      } else if (state == PAYLOAD && !escape) { // fast path: a run of plain payload bytes, found and CRC'd 16 at a time
        long r = Crc16.updateUntilEscape(crc, data, i, i + (int) Math.min(length - got, end - i));
        int stop = (int) (r >>> 16);
        if (stop > i) {
          System.arraycopy(data, i, payload, got, stop - i);
          crc = (int) r & 0xFFFF;
          got += stop - i;
          i = stop;
          if (got == length) {
            state = CRC;
            got = 0;
          }
          continue;
        }
      }
      int b = data[i++] & 0xFF;
      if (state == HUNT) {
        if (escape) {
          escape = false;
          if (b == 0xFD) {
            begin();
            continue;
          }
          skip(0xFF);
        }
        if (b == 0xFF) {
          escape = true;
        } else if (b != 0xFE) {
          skip(b);
        }
        continue;
      }
      if (escape) {
        escape = false;
        if (b == 0xFD) {
          problems.add("frame cut short: a new frame started after " + describeProgress() + "; dropped");
          begin();
          continue;
        }
        if (state != CRC) crc = Crc16.update(crc, b);
        if (b == 0xFE) continue;
        if (b != 0xFF) {
          problems.add(String.format("invalid escape ff %02x inside a frame; dropped", b));
          state = HUNT;
          continue;
        }
        if (fieldByte(b)) return i;
        continue;
      }
      if (b == 0xFF) {
        escape = true;
        if (state != CRC) crc = Crc16.update(crc, b);
        continue;
      }
      if (state != CRC) crc = Crc16.update(crc, b);
      if (fieldByte(b)) return i;
    }
    return i;
  }

  private String describeProgress() {
    return switch (state) {
      case LENGTH -> got + " of 4 length bytes";
      case PAYLOAD -> got + " of " + length + " payload bytes";
      default -> "the payload, in the CRC";
    };
  }

  private void skip(int b) {
    if (skipped < SKIPPED_SHOWN) skippedHead[(int) skipped] = (byte) b;
    skipped++;
  }

  private void begin() {
    if (skipped > 0) {
      int shown = (int) Math.min(skipped, SKIPPED_SHOWN);
      problems.add(skipped + " bytes outside frames ignored: "
          + HexFormat.ofDelimiter(" ").formatHex(skippedHead, 0, shown) + (skipped > shown ? " ..." : ""));
      skipped = 0;
    }
    state = LENGTH;
    escape = false;
    got = 0;
    length = 0;
    wireCrc = 0;
    crc = Crc16.update(Crc16.update(Crc16.INITIAL, 0xFF), 0xFD);
  }

  /** Returns true when the byte completed a good frame. */
  private boolean fieldByte(int b) {
    switch (state) {
      case LENGTH -> {
        length |= (long) b << (8 * got);
        if (++got == 4) {
          got = 0;
          if (length > maxPayload) {
            problems.add("frame declares " + length + " payload bytes, more than the limit of " + maxPayload
                + "; dropped (garbage on the link?)");
            state = HUNT;
            return false;
          }
          if (payload.length < length) payload = new byte[(int) Math.min(maxPayload, Math.max(length, 2L * payload.length))];
          state = length == 0 ? CRC : PAYLOAD;
        }
      }
      case PAYLOAD -> {
        payload[got++] = (byte) b;
        if (got == length) {
          got = 0;
          state = CRC;
        }
      }
      default -> {
        wireCrc |= b << (8 * got);
        if (++got < 2) return false;
        state = HUNT;
        if (wireCrc != crc) {
          problems.add(String.format("frame of %d bytes failed its CRC (0x%04x on the wire, 0x%04x computed); dropped",
              length, wireCrc, crc));
          return false;
        }
        ready = true;
        return true;
      }
    }
    return false;
  }
}
