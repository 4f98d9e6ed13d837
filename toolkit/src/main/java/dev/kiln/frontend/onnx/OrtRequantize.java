package dev.kiln.frontend.onnx;

import dev.kiln.compile.FixedPoint;

/**
 * Makes Kiln's int8 FULLY_CONNECTED requantize exactly like onnxruntime, by choosing its weight scales.
 *
 * <p>onnxruntime runs a QDQ Gemm/MatMul as one integer kernel (QGemm, QLinearMatMul) that
 * requantizes its int32 accumulator in float: {@code rne(float32(acc) * m) + z_out} with {@code m =
 * float32(float32(s_x * s_w) / s_y)}, clamped (onnx-format.md section 6). Kiln's FULLY_CONNECTED is
 * TFLite's reference: {@code round_half_away(double(acc) * M)} with {@code M = double(s_x) *
 * double(s_w) / double(s_y)}. The two disagree now and then (ties, the float32 product), and a
 * softmax after the last layer turns one code of a logit into several of a probability.
 * (Convolutions get onnxruntime's arithmetic from their kernel instead: Options.Requantize.)
 *
 * <p>Both are non-decreasing step functions of the accumulator, so they are equal on an interval
 * exactly when, for every output code {@code t}, they first reach {@code t} at the same
 * accumulator. {@link #tune} finds those accumulators for onnxruntime's function by bisection over
 * every accumulator the op can produce (bounded from its constant weights and bias), then tries
 * float32 weight scales next to the model's (a few hundred ulps either way, each changing Kiln's
 * multiplier by about one part in 2^24) until Kiln's function steps at exactly the same places:
 * a proof of equality for that channel, not a sample. The scale changes by far less than float
 * precision matters anywhere else (metadata shows it to 7 digits); when no scale fits, the
 * model's own is kept and that channel may differ by one code.
 */
final class OrtRequantize {
  /** Candidate scales tried on each side of the model's. */
  static final int SEARCH_ULPS = 512;

  private OrtRequantize() {}

  /** onnxruntime's output code for an accumulator (bias included), after the activation clamp [lo, hi]. */
  static int ort(long acc, float m, int zeroPoint, int lo, int hi) {
    float v = (float) acc * m;
    v = Math.max(v, (float) (-128 - zeroPoint));
    v = Math.min(v, (float) (127 - zeroPoint));
    int q = (int) Math.rint(v) + zeroPoint;
    return Math.max(lo, Math.min(hi, q));
  }

  /** Kiln's FULLY_CONNECTED output code with weight scale {@code sw}. */
  static int kiln(long acc, float sx, float sw, float sy, int zeroPoint, int lo, int hi) {
    double real = (double) sx * (double) sw / (double) sy;
    long q = FixedPoint.rhaz((double) acc * real) + zeroPoint;
    return (int) Math.max(lo, Math.min(hi, q));
  }

  /**
   * A weight scale near {@code sw} for which Kiln's kernel gives onnxruntime's code for every
   * accumulator in [{@code accLo}, {@code accHi}], or {@code sw} itself when none is found.
   */
  static float tune(float sx, float sw, float sy, int zeroPoint, int lo, int hi, long accLo, long accHi) {
    float f = tuneOrNaN(sx, sw, sy, zeroPoint, lo, hi, accLo, accHi);
    return Float.isNaN(f) ? sw : f;
  }

  /** As {@link #tune}, NaN when no scale fits. */
  static float tuneOrNaN(float sx, float sw, float sy, int zeroPoint, int lo, int hi, long accLo, long accHi) {
    accLo = Math.max(accLo, Integer.MIN_VALUE);
    accHi = Math.min(accHi, Integer.MAX_VALUE);
    if (accLo > accHi || lo >= hi) return sw;
    float m = sx * sw / sy;
    long[] steps = steps(m, zeroPoint, lo, hi, accLo, accHi);
    float up = sw;
    float down = sw;
    if (matches(steps, sx, sw, sy, zeroPoint, lo, hi, accLo, accHi)) return sw;
    for (int k = 0; k < SEARCH_ULPS; k++) {
      up = Math.nextUp(up);
      if (matches(steps, sx, up, sy, zeroPoint, lo, hi, accLo, accHi)) return up;
      down = Math.nextDown(down);
      if (down > 0 && matches(steps, sx, down, sy, zeroPoint, lo, hi, accLo, accHi)) return down;
    }
    return Float.NaN;
  }

  /**
   * For each code t = lo + 1 .. hi, the first accumulator in the domain where onnxruntime's code is
   * >= t: accLo if already there, accHi + 1 if never.
   */
  static long[] steps(float m, int zeroPoint, int lo, int hi, long accLo, long accHi) {
    long[] steps = new long[hi - lo];
    long from = accLo;
    for (int t = lo + 1; t <= hi; t++) {
      long first;
      if (ort(from, m, zeroPoint, lo, hi) >= t) {
        first = from;
      } else if (ort(accHi, m, zeroPoint, lo, hi) < t) {
        first = accHi + 1;
      } else {
        long below = from;
        long above = accHi;
        while (above - below > 1) {
          long mid = below + (above - below) / 2;
          if (ort(mid, m, zeroPoint, lo, hi) >= t) above = mid;
          else below = mid;
        }
        first = above;
      }
      steps[t - lo - 1] = first;
      from = Math.min(first, accHi);
    }
    return steps;
  }

  /** True if Kiln's non-decreasing function reaches each code exactly at onnxruntime's steps. */
  private static boolean matches(long[] steps, float sx, float sw, float sy, int zeroPoint, int lo, int hi, long accLo,
                                 long accHi) {
    for (int i = 0; i < steps.length; i++) {
      int t = lo + 1 + i;
      long step = steps[i];
      if (step <= accHi && kiln(step, sx, sw, sy, zeroPoint, lo, hi) < t) return false;
      if (step > accLo && kiln(step - 1, sx, sw, sy, zeroPoint, lo, hi) >= t) return false;
    }
    return true;
  }
}
