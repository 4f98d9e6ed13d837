package dev.kiln.codegen.kernels;

import dev.kiln.compile.FixedPoint;

/**
 * The 256 exponentials an int8 softmax row can need, exp(beta * s_in * (x - max)) for x - max in
 * 0..-255, computed at compile time with gemmlowp's fixed-point exp (tflite-numerics.md 1.5 and
 * 5.1), so the device reads a constant table instead of evaluating or caching them.
 */
final class SoftmaxExpTable {
  private static final int[] EXP_OF_MINUS_POWERS = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};

  private SoftmaxExpTable() {}

  /** Entry d is the Q0 exponential for diff = -d (0 where diff falls below diffMin, as the kernel cuts it). */
  static int[] table(FixedPoint.Multiplier input, int diffMin) {
    int[] t = new int[256];
    for (int d = 0; d < 256; d++) {
      int diff = -d;
      if (diff < diffMin) continue;
      int scaled = FixedPoint.srdhm((int) ((long) diff << input.shift()), input.multiplier()); // Q5.26
      t[d] = expOnNegativeValues(scaled, 5);
    }
    return t;
  }

  /** exp(a) for a <= 0 held with {@code integerBits} integer bits; result in Q0. */
  static int expOnNegativeValues(int a, int integerBits) {
    int fractional = 31 - integerBits;
    int quarter = 1 << (fractional - 2);
    int remainder = (a & (quarter - 1)) - quarter; // in [-1/4, 0)
    int result = expOnQuarterInterval(integerBits > 0 ? saturatingShiftLeft(remainder, integerBits) : remainder);
    int wholeQuarters = remainder - a;
    for (int e = -2; e <= 4; e++) {
      if (integerBits > e && (wholeQuarters & (1 << (fractional + e))) != 0) {
        result = FixedPoint.srdhm(result, EXP_OF_MINUS_POWERS[e + 2]);
      }
    }
    if (integerBits > 5 && a < -(1 << (36 - integerBits))) result = 0;
    if (a == 0) result = Integer.MAX_VALUE;
    return result;
  }

  /** exp on [-1/4, 0) in Q0 by a Taylor polynomial around -1/8. */
  private static int expOnQuarterInterval(int a) {
    int x = a + (1 << 28);
    int x2 = FixedPoint.srdhm(x, x);
    int x3 = FixedPoint.srdhm(x2, x);
    int x4 = FixedPoint.srdhm(x2, x2);
    int poly = FixedPoint.rdbpot(FixedPoint.srdhm(FixedPoint.rdbpot(x4, 2) + x3, 715827883) + x2, 1);
    return 1895147668 + FixedPoint.srdhm(1895147668, x + poly);
  }

  private static int saturatingShiftLeft(int x, int n) {
    int threshold = (int) ((1L << (31 - n)) - 1);
    if (x > threshold) return Integer.MAX_VALUE;
    if (x < -threshold) return Integer.MIN_VALUE;
    return x << n;
  }
}
