package dev.kiln.micro;

import dev.kiln.rpc.RemoteFunction;
import dev.kiln.rpc.RemoteModule;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Per-operator times measured on the device by an executor module's {@code run_individual}
 * (microTVM's debug executor: {@code [number, repeat, min_repeat_ms, limit_zero_time_iterations,
 * cooldown_interval_ms, repeats_to_cooldown]} returning an i64 count then count x repeat doubles,
 * operator-major). Kiln's device appends {@code repeat} doubles of whole-run time measured around
 * the same runs; a device without them (TVM's) gives {@link #totalSeconds()} as the operators' sum.
 * Graph executors count every graph node (inputs take 0), AoT executors every operator.
 *
 * @param seconds {@code seconds[node][round]}, mean seconds per run
 * @param totalSeconds {@code totalSeconds[round]}, mean seconds per whole run
 */
public record OperatorTimes(double[][] seconds, double[] totalSeconds, int number) {

  public OperatorTimes {
    seconds = seconds.clone();
    for (int i = 0; i < seconds.length; i++) seconds[i] = seconds[i].clone();
    totalSeconds = totalSeconds.clone();
  }

  /** Calls {@code run_individual} on {@code module} and decodes its reply. */
  public static OperatorTimes measure(RemoteModule module, int number, int repeat, int minRepeatMillis) throws IOException {
    if (number < 1) throw new IllegalArgumentException("number < 1: " + number);
    if (repeat < 1) throw new IllegalArgumentException("repeat < 1: " + repeat);
    if (minRepeatMillis < 0) throw new IllegalArgumentException("minRepeatMillis < 0: " + minRepeatMillis);
    RemoteFunction f = module.getFunction("run_individual");
    Object r = f.call((long) number, (long) repeat, (long) minRepeatMillis, 100L, 0L, 1L);
    if (!(r instanceof byte[] bytes)) throw new IOException("run_individual returned " + r + ", not bytes");
    return decode(bytes, repeat, number);
  }

  /** Decodes a {@code run_individual} reply of {@code repeat} rounds. */
  static OperatorTimes decode(byte[] bytes, int repeat, int number) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 8) throw new IOException("run_individual replied " + bytes.length + " bytes, fewer than its 8-byte count");
    long count = b.getLong();
    long need = 8 + count * repeat * 8L;
    if (count < 0 || bytes.length < need) {
      throw new IOException("run_individual replied " + bytes.length + " bytes for " + count + " operators x " + repeat
          + " rounds (needs " + need + ")");
    }
    double[][] s = new double[(int) count][repeat];
    for (int i = 0; i < count; i++) for (int r = 0; r < repeat; r++) s[i][r] = b.getDouble();
    double[] total = new double[repeat];
    if (bytes.length >= need + 8L * repeat) {
      for (int r = 0; r < repeat; r++) total[r] = b.getDouble();
    } else {
      for (int r = 0; r < repeat; r++) for (double[] op : s) total[r] += op[r];
    }
    return new OperatorTimes(s, total, number);
  }

  /** Operators (graph: nodes) measured. */
  public int count() { return seconds.length; }

  /** Mean over rounds of node {@code i}'s seconds per run. */
  public double meanSeconds(int i) {
    double sum = 0;
    for (double v : seconds[i]) sum += v;
    return sum / seconds[i].length;
  }

  /** Mean over rounds of the whole run's seconds. */
  public double meanTotalSeconds() {
    double sum = 0;
    for (double v : totalSeconds) sum += v;
    return sum / totalSeconds.length;
  }

  @Override public double[][] seconds() {
    double[][] c = seconds.clone();
    for (int i = 0; i < c.length; i++) c[i] = c[i].clone();
    return c;
  }

  @Override public double[] totalSeconds() { return totalSeconds.clone(); }
}
