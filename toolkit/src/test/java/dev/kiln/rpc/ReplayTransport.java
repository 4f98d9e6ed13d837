package dev.kiln.rpc;

import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.transport.LinkClosedException;
import dev.kiln.transport.LinkTimeoutException;
import dev.kiln.transport.Timeout;
import dev.kiln.transport.Transport;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A scripted device: each step is the exact bytes the host must send and the bytes the device
 * answers with (from the recordings). A host sending anything else fails the test with both in hex.
 */
final class ReplayTransport implements Transport {
  private record Step(byte[] expect, byte[] answer) {}

  private final ArrayDeque<Step> steps = new ArrayDeque<>();
  private final ByteArrayOutputStream written = new ByteArrayOutputStream();
  private final ArrayDeque<Byte> input = new ArrayDeque<>();
  private final Timeout timeout = new Timeout();
  private boolean closed;

  /** Bytes the device sends before the host speaks (its boot Terminate). */
  ReplayTransport deviceSends(String hex) {
    for (byte b : WireVectors.hex(hex)) input.add(b);
    return this;
  }

  /** The host must send exactly {@code expectHex}; the device answers {@code answerHex} ("" for nothing). */
  ReplayTransport step(String expectHex, String answerHex) {
    steps.add(new Step(WireVectors.hex(expectHex), WireVectors.hex(answerHex)));
    return this;
  }

  boolean finished() { return steps.isEmpty() && written.size() == 0; }

  boolean isClosed() { return closed; }

  @Override public int read(byte[] dst, int off, int len) throws LinkTimeoutException, LinkClosedException {
    if (closed) throw new LinkClosedException("replay: closed");
    if (input.isEmpty()) throw new LinkTimeoutException("replay: the script has nothing more to send", Duration.ZERO);
    int n = 0;
    while (n < len && !input.isEmpty()) dst[off + n++] = input.poll();
    return n;
  }

  @Override public void write(byte[] src, int off, int len) { written.write(src, off, len); }

  @Override public void flush() {
    byte[] w = written.toByteArray();
    int pos = 0;
    while (!steps.isEmpty() && w.length - pos >= steps.peek().expect.length) {
      Step s = steps.poll();
      byte[] got = Arrays.copyOfRange(w, pos, pos + s.expect.length);
      if (!Arrays.equals(got, s.expect)) {
        fail("host sent\n  " + HexFormat.ofDelimiter(" ").formatHex(got) + "\nexpected\n  "
            + HexFormat.ofDelimiter(" ").formatHex(s.expect));
      }
      pos += s.expect.length;
      for (byte b : s.answer) input.add(b);
    }
    written.reset();
    written.write(w, pos, w.length - pos);
  }

  @Override public Timeout timeout() { return timeout; }

  @Override public void close() { closed = true; }

  @Override public String toString() { return "replay"; }
}
