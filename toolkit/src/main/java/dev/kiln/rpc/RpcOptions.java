package dev.kiln.rpc;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Settings of a session: timeouts, the handshake's retry, where device logs go. Immutable; make one
 * with {@link #builder()} or change a copy with {@link #toBuilder()}.
 *
 * <table>
 *   <caption>Defaults</caption>
 *   <tr><td>replyTimeout</td><td>10 s</td><td>longest wait for the bytes of one reply</td></tr>
 *   <tr><td>handshakeTimeout</td><td>5 s</td><td>whole session handshake</td></tr>
 *   <tr><td>handshakeRetry</td><td>0 (none)</td><td>resend Terminate + StartSessionInit after this
 *       silence; use ~100 ms for boards and QEMU ptys that may miss the first bytes</td></tr>
 *   <tr><td>dropGrace</td><td>500 ms</td><td>after the device reports dropping a frame, how long a
 *       pending reply may still take before the call fails as corrupted</td></tr>
 *   <tr><td>initialNonce</td><td>random</td><td>host nonce before regeneration (0x2A gives the recorded 0x42)</td></tr>
 * </table>
 */
public final class RpcOptions {
  private final Duration replyTimeout;
  private final Duration handshakeTimeout;
  private final Duration handshakeRetry;
  private final Duration dropGrace;
  private final int initialNonce;
  private final Consumer<String> logListener;
  private final int maxFrameBytes;

  private RpcOptions(Builder b) {
    this.replyTimeout = b.replyTimeout;
    this.handshakeTimeout = b.handshakeTimeout;
    this.handshakeRetry = b.handshakeRetry;
    this.dropGrace = b.dropGrace;
    this.initialNonce = b.initialNonce;
    this.logListener = b.logListener;
    this.maxFrameBytes = b.maxFrameBytes;
  }

  public static RpcOptions defaults() { return builder().build(); }

  public static Builder builder() { return new Builder(); }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.replyTimeout = replyTimeout;
    b.handshakeTimeout = handshakeTimeout;
    b.handshakeRetry = handshakeRetry;
    b.dropGrace = dropGrace;
    b.initialNonce = initialNonce;
    b.logListener = logListener;
    b.maxFrameBytes = maxFrameBytes;
    return b;
  }

  public Duration replyTimeout() { return replyTimeout; }

  public Duration handshakeTimeout() { return handshakeTimeout; }

  public Duration handshakeRetry() { return handshakeRetry; }

  public Duration dropGrace() { return dropGrace; }

  /** -1 for random. */
  public int initialNonce() { return initialNonce; }

  public Consumer<String> logListener() { return logListener; }

  public int maxFrameBytes() { return maxFrameBytes; }

  @Override public String toString() {
    return "RpcOptions(reply " + replyTimeout + ", handshake " + handshakeTimeout + ", retry " + handshakeRetry
        + ", dropGrace " + dropGrace + ")";
  }

  public static final class Builder {
    private Duration replyTimeout = Duration.ofSeconds(10);
    private Duration handshakeTimeout = Duration.ofSeconds(5);
    private Duration handshakeRetry = Duration.ZERO;
    private Duration dropGrace = Duration.ofMillis(500);
    private int initialNonce = -1;
    private Consumer<String> logListener = s -> { };
    private int maxFrameBytes = 64 << 20;

    private Builder() {}

    public Builder replyTimeout(Duration d) {
      this.replyTimeout = positive("replyTimeout", d);
      return this;
    }

    public Builder handshakeTimeout(Duration d) {
      this.handshakeTimeout = positive("handshakeTimeout", d);
      return this;
    }

    /** Duration.ZERO: never resend. */
    public Builder handshakeRetry(Duration d) {
      Objects.requireNonNull(d, "handshakeRetry");
      if (d.isNegative()) throw new IllegalArgumentException("handshakeRetry < 0: " + d);
      this.handshakeRetry = d;
      return this;
    }

    public Builder dropGrace(Duration d) {
      this.dropGrace = positive("dropGrace", d);
      return this;
    }

    /** The host nonce before its first regeneration, 1..255; the wire vectors use 0x2A. */
    public Builder initialNonce(int nonce) {
      if (nonce < 1 || nonce > 255) throw new IllegalArgumentException("nonce out of 1..255: " + nonce);
      this.initialNonce = nonce;
      return this;
    }

    /** Receives every device log line (kLog), on the thread that reads the link. */
    public Builder logListener(Consumer<String> listener) {
      this.logListener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** Frames declaring a longer payload are treated as garbage. */
    public Builder maxFrameBytes(int n) {
      if (n < 64) throw new IllegalArgumentException("maxFrameBytes < 64: " + n);
      this.maxFrameBytes = n;
      return this;
    }

    public RpcOptions build() {
      if (!handshakeRetry.isZero() && handshakeRetry.compareTo(handshakeTimeout) >= 0) {
        throw new IllegalArgumentException("handshakeRetry >= handshakeTimeout: " + handshakeRetry + " >= " + handshakeTimeout);
      }
      return new RpcOptions(this);
    }

    private static Duration positive(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) throw new IllegalArgumentException(name + " <= 0: " + d);
      return d;
    }
  }
}
