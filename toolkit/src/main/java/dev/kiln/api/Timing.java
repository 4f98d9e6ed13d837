package dev.kiln.api;

import dev.kiln.micro.TimeEvaluator;
import java.util.Arrays;
import java.util.Locale;

/**
 * Device-side timing of {@code run}: {@code session.timeEvaluator().repeat(10).measure()}.
 * Immutable builder; {@link #measure()} returns the figures.
 */
public final class Timing {
  private final DeviceSession session;
  private final TimeEvaluator evaluator;

  Timing(DeviceSession session, TimeEvaluator evaluator) {
    this.session = session;
    this.evaluator = evaluator;
  }

  /** Timed rounds, at least 1. */
  public Timing repeat(int n) {
    if (n < 1) throw new KilnException("repeat(n): n is the number of timed rounds, at least 1, not " + n);
    return new Timing(session, evaluator.repeat(n));
  }

  /** Calls per timed round, at least 1. */
  public Timing number(int n) {
    if (n < 1) throw new KilnException("number(n): n is the number of calls per round, at least 1, not " + n);
    return new Timing(session, evaluator.number(n));
  }

  public Timing minRepeatMillis(int ms) {
    if (ms < 0) throw new KilnException("minRepeatMillis(ms): ms must be 0 or more, not " + ms);
    return new Timing(session, evaluator.minRepeatMillis(ms));
  }

  public Result measure() {
    double[] s = session.call("time_evaluator(run)", evaluator::measure);
    return new Result(session.build().executor().toString(), evaluator.number(), s);
  }

  /** Mean seconds per call of each round; medians and spread derived. */
  public record Result(String executor, int number, double[] secondsPerCall) {
    public double medianMicros() {
      double[] v = secondsPerCall.clone();
      Arrays.sort(v);
      double m = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
      return m * 1e6;
    }

    public double minMicros() { return Arrays.stream(secondsPerCall).min().orElse(Double.NaN) * 1e6; }

    public double maxMicros() { return Arrays.stream(secondsPerCall).max().orElse(Double.NaN) * 1e6; }

    @Override public String toString() {
      return String.format(Locale.ROOT, "%s: median %.2f us per run (min %.2f, max %.2f; %d rounds of %d)", executor, medianMicros(),
          minMicros(), maxMicros(), secondsPerCall.length, number);
    }
  }
}
