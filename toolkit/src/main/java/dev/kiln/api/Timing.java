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
    return new Result(session.build().executor().toString(), evaluator.number(), s, session.device().icountShift());
  }

  /**
   * Instructions of one {@code run} on a QEMU board, exact and deterministic: QEMU's {@code -icount}
   * makes the board's clock an instruction counter (2^shift ns per instruction), each round is
   * rounded to whole instructions, and the evaluator's own cost (timer reads, loop, call) is
   * calibrated away by measuring 1 and 2 calls per round: the count is T(2) - T(1). When two rounds
   * of each disagree, the model's work changes from call to call (state carried between calls, as an
   * LSTM's or a resource variable's, or data-dependent paths): the count is then the median of 5
   * rounds of each, T(2) - T(1), a typical call rather than an exact one.
   */
  public long instructions() {
    if (session.device().icountShift() < 0) {
      throw new KilnException("instruction counts need a QEMU board (its -icount clock); " + session.device()
          + " measures time: use measure()");
    }
    if (session.device().icountShift() < 7) {
      throw new KilnException("instruction counts are exact from -icount shift 7 up (an instruction must last two ticks of the board timer, "
          + "40-62.5 ns); " + session.device() + " runs at shift " + session.device().icountShift()
          + ": use Device.qemu(...) with its default shift " + Device.DEFAULT_ICOUNT_SHIFT + ", or measure()");
    }
    Result one = number(1).repeat(2).measure();
    Result two = number(2).repeat(2).measure();
    long[] a = one.instructionsPerRound();
    long[] b = two.instructionsPerRound();
    if (a[0] != a[1] || b[0] != b[1]) {
      long t1 = median(number(1).repeat(5).measure().instructionsPerRound());
      long t2 = median(number(2).repeat(5).measure().instructionsPerRound());
      return t2 - t1;
    }
    return b[0] - a[0];
  }

  private static long median(long[] v) {
    long[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  /** Mean seconds per call of each round; medians and spread derived. */
  public record Result(String executor, int number, double[] secondsPerCall, int icountShift) {
    public Result(String executor, int number, double[] secondsPerCall) { this(executor, number, secondsPerCall, -1); }

    /**
     * QEMU boards: instructions executed in each round (all {@code number} calls, plus the
     * evaluator's fixed cost of a few dozen instructions), exact: the -icount clock advances 2^shift ns
     * per instruction, and from shift 7 up an instruction lasts at least two ticks of the boards'
     * timers (40 to 62.5 ns), so rounding recovers the count. Empty for other devices and lower shifts.
     */
    public long[] instructionsPerRound() {
      if (icountShift < 7) return new long[0]; // below shift 7 an instruction lasts less than two timer ticks
      long[] out = new long[secondsPerCall.length];
      for (int i = 0; i < out.length; i++) out[i] = Math.round(secondsPerCall[i] * number * 1e9 / (1L << icountShift));
      return out;
    }

    /** QEMU boards: the median round's instructions divided by {@code number} (see {@link #instructionsPerRound()}); NaN elsewhere. */
    public double instructionsPerCall() {
      long[] r = instructionsPerRound();
      if (r.length == 0) return Double.NaN;
      long[] v = r.clone();
      Arrays.sort(v);
      return (double) v[v.length / 2] / number;
    }

    public double medianMicros() {
      double[] v = secondsPerCall.clone();
      Arrays.sort(v);
      double m = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
      return m * 1e6;
    }

    public double minMicros() { return Arrays.stream(secondsPerCall).min().orElse(Double.NaN) * 1e6; }

    public double maxMicros() { return Arrays.stream(secondsPerCall).max().orElse(Double.NaN) * 1e6; }

    @Override public String toString() {
      if (icountShift >= 7) {
        return String.format(Locale.ROOT, "%s: %,.0f instructions per run (QEMU -icount shift %d; %d rounds of %d: %s)", executor,
            instructionsPerCall(), icountShift, secondsPerCall.length, number, Arrays.toString(instructionsPerRound()));
      }
      return String.format(Locale.ROOT, "%s: median %.2f us per run (min %.2f, max %.2f; %d rounds of %d)", executor, medianMicros(),
          minMicros(), maxMicros(), secondsPerCall.length, number);
    }
  }
}
