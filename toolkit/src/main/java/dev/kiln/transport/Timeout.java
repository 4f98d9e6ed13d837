package dev.kiln.transport;

import java.time.Duration;
import java.util.Objects;

/**
 * The time limits of one {@link Transport}, after Okio's {@code Timeout}: a per-read timeout that
 * detects a dead link (as long as bytes keep arriving no sequence of reads fails), and an optional
 * {@link Deadline} that bounds a whole job. Every read and write waits at most the smaller of the
 * two; nothing waits without a limit. Owned by its transport; set it from the thread using the link.
 */
public final class Timeout {
  /** Per-read timeout of a new transport. */
  public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(10);

  private volatile Duration readTimeout = DEFAULT_READ_TIMEOUT;
  private volatile Deadline deadline;

  /** Longest wait for the next bytes. */
  public Timeout readTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout <= 0: " + timeout);
    this.readTimeout = timeout;
    return this;
  }

  public Duration readTimeout() { return readTimeout; }

  /** Bounds every read and write until cleared. */
  public Timeout deadline(Deadline deadline) {
    this.deadline = Objects.requireNonNull(deadline, "deadline");
    return this;
  }

  public Timeout clearDeadline() {
    this.deadline = null;
    return this;
  }

  /** The job deadline, or null. */
  public Deadline deadline() { return deadline; }

  /**
   * Nanoseconds the next operation may wait: the read timeout, cut by the deadline.
   *
   * @throws LinkTimeoutException if the deadline has already passed
   */
  public long waitNanos(String operation) throws LinkTimeoutException {
    long wait = readTimeout.toNanos();
    Deadline d = deadline;
    if (d != null) {
      long left = d.remainingNanos();
      if (left <= 0) {
        throw new LinkTimeoutException(operation + ": the deadline of " + d.job() + " (" + format(d.budget())
            + ") has passed", d.budget());
      }
      wait = Math.min(wait, left);
    }
    return wait;
  }

  /** Explains the wait that just expired: which limit and how long. */
  String describeExpiry(String operation, long waitedNanos) {
    Deadline d = deadline;
    Duration waited = Duration.ofNanos(waitedNanos);
    if (d != null && d.remainingNanos() <= 0) {
      return operation + ": the deadline of " + d.job() + " (" + format(d.budget()) + ") passed";
    }
    return operation + ": nothing after " + format(waited) + " (read timeout " + format(readTimeout) + ")";
  }

  /** "300 ms", "1.5 s". */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) return ms + " ms";
    if (ms % 1000 == 0) return (ms / 1000) + " s";
    return String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
  }

  @Override public String toString() {
    Deadline d = deadline;
    return "Timeout(read " + format(readTimeout) + (d != null ? ", " + d : "") + ")";
  }
}
