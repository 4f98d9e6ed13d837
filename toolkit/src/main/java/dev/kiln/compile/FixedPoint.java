package dev.kiln.compile;

import dev.kiln.ir.Activation;

/**
 * Prepare-time arithmetic of TFLite's reference kernels (tflite-numerics.md sections 1 and 2),
 * done once in Java so the device only runs Eval. Every float32 step stays in {@code float}.
 */
public final class FixedPoint {
  private FixedPoint() {}

  /** A quantized multiplier: {@code M ~= multiplier * 2^(shift - 31)}; shift > 0 shifts left. */
  public record Multiplier(int multiplier, int shift) {}

  /** TFLite's QuantizeMultiplier (double rounding build: no cap at shift 30). */
  public static Multiplier quantizeMultiplier(double m) {
    if (m < 0 || Double.isNaN(m) || Double.isInfinite(m)) {
      throw new IllegalArgumentException("multiplier must be finite and >= 0: " + m);
    }
    if (m == 0) return new Multiplier(0, 0);
    int e = Math.getExponent(m) + 1;
    double f = Math.scalb(m, -e);
    if (f < 0.5) { // subnormal input: normalise
      while (f < 0.5) { f *= 2; e--; }
    }
    long q = rhaz(f * (1L << 31));
    if (q == (1L << 31)) {
      q = 1L << 30;
      e++;
    }
    if (e < -31) return new Multiplier(0, 0);
    return new Multiplier((int) q, e);
  }

  /** Round half away from zero (C {@code round}); {@link Math#round} rounds ties up instead. */
  public static long rhaz(double x) {
    long t = (long) x;
    if (Math.abs(x - t) >= 0.5) t += (long) Math.signum(x);
    return t;
  }

  /** Round half away from zero on a float (C {@code roundf}). */
  public static int rhaz(float x) {
    int t = (int) x;
    if (Math.abs(x - (float) t) >= 0.5f) t += (int) Math.signum(x);
    return t;
  }

  /** SaturatingRoundingDoublingHighMul. */
  public static int srdhm(int a, int b) {
    if (a == Integer.MIN_VALUE && b == Integer.MIN_VALUE) return Integer.MAX_VALUE;
    long ab = (long) a * b;
    long nudge = ab >= 0 ? (1L << 30) : (1 - (1L << 30));
    return (int) ((ab + nudge) / (1L << 31));
  }

  /** RoundingDivideByPOT: x / 2^n rounded half away from zero. */
  public static int rdbpot(int x, int n) {
    int mask = (int) ((1L << n) - 1);
    int rem = x & mask;
    int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> n) + (rem > threshold ? 1 : 0);
  }

  /** MultiplyByQuantizedMultiplier, double rounding (TF 2.21). */
  public static int mbqm(int x, Multiplier m) {
    int left = Math.max(m.shift(), 0);
    int right = Math.max(-m.shift(), 0);
    return rdbpot(srdhm(x * (1 << left), m.multiplier()), right);
  }

  /** int8 clamp interval [min, max] of a fused activation for an output with this scale/zero point. */
  public static int[] activationRangeInt8(Activation act, float outScale, int outZeroPoint) {
    int qmin = -128;
    int qmax = 127;
    switch (act) {
      case NONE, TANH, SIGN_BIT -> { return new int[] {qmin, qmax}; }
      case RELU -> { return new int[] {Math.max(qmin, quant(0f, outScale, outZeroPoint)), qmax}; }
      case RELU6 -> {
        return new int[] {Math.max(qmin, quant(0f, outScale, outZeroPoint)), Math.min(qmax, quant(6f, outScale, outZeroPoint))};
      }
      case RELU_N1_TO_1 -> {
        return new int[] {Math.max(qmin, quant(-1f, outScale, outZeroPoint)), Math.min(qmax, quant(1f, outScale, outZeroPoint))};
      }
      default -> throw new IllegalArgumentException("activation " + act);
    }
  }

  /** float32 clamp interval of a fused activation; TANH/SIGN_BIT are handled by the kernel, not a clamp. */
  public static float[] activationRangeFloat(Activation act) {
    return switch (act) {
      case RELU -> new float[] {0f, Float.MAX_VALUE};
      case RELU6 -> new float[] {0f, 6f};
      case RELU_N1_TO_1 -> new float[] {-1f, 1f};
      default -> new float[] {-Float.MAX_VALUE, Float.MAX_VALUE};
    };
  }

  private static int quant(float v, float scale, int zeroPoint) {
    return zeroPoint + rhaz(v / scale);
  }
}
