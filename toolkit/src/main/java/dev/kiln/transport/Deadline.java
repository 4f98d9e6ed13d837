package dev.kiln.transport;

import java.time.Duration;
import java.util.Objects;

/**
 * A point in time by which a whole job (a handshake, a chunked copy, one call) must be done, with
 * the job's name for error messages. Immutable; compares by {@link System#nanoTime()}.
 */
public final class Deadline {
  private final long nanoTime;
  private final Duration budget;
  private final String job;

  private Deadline(long nanoTime, Duration budget, String job) {
    this.nanoTime = nanoTime;
    this.budget = budget;
    this.job = job;
  }

  /** A deadline {@code budget} from now for the job named {@code job}. */
  public static Deadline after(Duration budget, String job) {
    Objects.requireNonNull(budget, "budget");
    Objects.requireNonNull(job, "job");
    if (budget.isNegative()) throw new IllegalArgumentException("budget < 0: " + budget);
    return new Deadline(System.nanoTime() + budget.toNanos(), budget, job);
  }

  public String job() { return job; }

  /** The whole time this job was given. */
  public Duration budget() { return budget; }

  /** Time left, zero once passed. */
  public Duration remaining() { return Duration.ofNanos(Math.max(0, remainingNanos())); }

  public long remainingNanos() { return nanoTime - System.nanoTime(); }

  public boolean hasPassed() { return remainingNanos() <= 0; }

  @Override public String toString() {
    return "Deadline(" + job + ", " + Timeout.format(budget) + ", " + Timeout.format(remaining()) + " left)";
  }
}
