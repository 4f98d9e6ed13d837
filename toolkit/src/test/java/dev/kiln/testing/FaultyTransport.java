package dev.kiln.testing;

import dev.kiln.transport.Timeout;
import dev.kiln.transport.Transport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;

/**
 * A real transport with one fault injected at a chosen byte: a bit flip, a dropped chunk, a
 * duplicated chunk, a stall, a truncated chunk, or the device killed. Host writes are chunks of one
 * frame each (the session writes frame by frame), so "the chunk" is one frame going to the device;
 * coming from the device it is what one read returned. Also records every byte written to the
 * device after the fault, so a fault-free run yields a replayable host transcript (fuzz seeds).
 */
public final class FaultyTransport implements Transport {
  public enum Kind { FLIP, DROP, DUPLICATE, DELAY, TRUNCATE, KILL }

  public enum Direction { TO_DEVICE, FROM_DEVICE }

  /** One fault: what, which way, at which byte of that direction's stream; delays last {@code stall}. */
  public record Fault(Kind kind, Direction direction, long atByte, Duration stall) {
    @Override public String toString() { return kind + " " + direction + " @" + atByte; }
  }

  private final Transport inner;
  private final Fault fault;
  private final ByteArrayOutputStream written = new ByteArrayOutputStream();
  private long wroteBytes;
  private long readBytes;
  private byte[] pending;
  private volatile boolean fired;

  private FaultyTransport(Transport inner, Fault fault) {
    this.inner = inner;
    this.fault = fault;
  }

  /** {@code fault} may be null: a recording pass-through. */
  public static FaultyTransport wrap(Transport inner, Fault fault) { return new FaultyTransport(inner, fault); }

  public boolean fired() { return fired; }

  /** Everything written to the device so far (after the fault, if it hit a write). */
  public synchronized byte[] written() { return written.toByteArray(); }

  public long bytesToDevice() { return wroteBytes; }

  public long bytesFromDevice() { return readBytes; }

  private boolean hits(Direction d, long start, int len) {
    return fault != null && !fired && fault.direction() == d && fault.atByte() >= start && fault.atByte() < start + len;
  }

  @Override public int read(byte[] dst, int off, int len) throws IOException {
    if (pending != null) {
      int n = Math.min(len, pending.length);
      System.arraycopy(pending, 0, dst, off, n);
      pending = n == pending.length ? null : Arrays.copyOfRange(pending, n, pending.length);
      return n;
    }
    while (true) {
      int n = inner.read(dst, off, len);
      long start = readBytes;
      readBytes += n;
      if (!hits(Direction.FROM_DEVICE, start, n)) return n;
      fired = true;
      int at = (int) (fault.atByte() - start);
      switch (fault.kind()) {
        case FLIP -> dst[off + at] ^= (byte) (1 << (fault.atByte() % 8));
        case DROP -> {
          continue; // these bytes never arrive
        }
        case DUPLICATE -> pending = Arrays.copyOfRange(dst, off, off + n);
        case DELAY -> sleep(fault.stall());
        case TRUNCATE -> {
          if (at == 0) continue;
          return at;
        }
        case KILL -> {
          inner.close();
          return inner.read(dst, off, len); // the link is gone: the inner transport says how
        }
      }
      return n;
    }
  }

  @Override public synchronized void write(byte[] src, int off, int len) throws IOException {
    long start = wroteBytes;
    wroteBytes += len;
    if (!hits(Direction.TO_DEVICE, start, len)) {
      pass(src, off, len);
      return;
    }
    fired = true;
    int at = (int) (fault.atByte() - start);
    switch (fault.kind()) {
      case FLIP -> {
        byte[] copy = Arrays.copyOfRange(src, off, off + len);
        copy[at] ^= (byte) (1 << (fault.atByte() % 8));
        pass(copy, 0, len);
      }
      case DROP -> { }
      case DUPLICATE -> {
        pass(src, off, len);
        pass(src, off, len);
      }
      case DELAY -> {
        sleep(fault.stall());
        pass(src, off, len);
      }
      case TRUNCATE -> pass(src, off, Math.max(at, 1));
      case KILL -> {
        inner.close();
        pass(src, off, len);
      }
    }
  }

  private void pass(byte[] src, int off, int len) throws IOException {
    written.write(src, off, len);
    inner.write(src, off, len);
  }

  private static void sleep(Duration d) throws IOException {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted during an injected delay");
    }
  }

  @Override public void flush() throws IOException { inner.flush(); }

  @Override public Timeout timeout() { return inner.timeout(); }

  @Override public boolean buffersWhileBusy() { return inner.buffersWhileBusy(); }

  @Override public void close() throws IOException { inner.close(); }

  @Override public String toString() { return "faulty(" + inner + (fault == null ? "" : ", " + fault) + ")"; }
}
