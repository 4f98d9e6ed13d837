package dev.kiln.compile;

import java.math.BigInteger;
import java.util.function.LongUnaryOperator;

/**
 * An exact integer stand-in for a reference kernel's int8 requantization, found at compile time.
 *
 * <p>The reference maps an int32 accumulator to a clamped int8 code through double arithmetic
 * (FULLY_CONNECTED: {@code round(double(acc) * M)}, ties away from zero), a non-decreasing
 * function of the accumulator. The device instead computes
 *
 * <pre>    clamp(floor((acc * multiplier + offset) / 2^shift) + zero_point, lo, hi)</pre>
 *
 * with one offset for acc >= 0 and another for acc < 0 (ties away from zero are not one shifted
 * floor on both sides): a 32x32-bit multiply into 64 bits, an add and an arithmetic shift
 * ({@code multiplier < 2^31}, {@code |offset| <= 2^62}, so nothing overflows). On each side that
 * is non-decreasing too, and two non-decreasing step functions agree on an interval exactly when
 * they step at the same points. {@link #fit} therefore finds, by bisection over the whole
 * accumulator domain, the first accumulator at which the reference reaches each code {@code t}
 * in {@code (lo, hi]}, and solves the linear inequalities that put the candidate's steps at
 * exactly those accumulators: offsets are returned only if they satisfy all of them, which is a
 * proof of equality for every accumulator in the domain (no sampling). When no offset fits (a
 * reference step within about 2^-31 of where the straight line puts it) the result is null and
 * the caller keeps the reference arithmetic.
 */
public final class LinearRescale {
  private LinearRescale() {}

  /** int32 words per rescale in the C tables (KILN_RESCALE_WORDS). */
  public static final int WORDS = 6;

  /**
   * {@code floor((acc * multiplier + offset) / 2^shift)}, 0 <= shift <= 62, with
   * {@code offset = acc >= 0 ? offsetNonNegative : offsetNegative}.
   */
  public record Rescale(int multiplier, int shift, long offsetNonNegative, long offsetNegative) {
    /** The value the device computes before adding the zero point and clamping. */
    public long apply(long acc) {
      return Math.floorDiv(acc * multiplier + (acc >= 0 ? offsetNonNegative : offsetNegative), 1L << shift);
    }

    /**
     * The {@link #WORDS} words the C kernels read: multiplier, shift, then each offset
     * (non-negative side first) as its high and low 32 bits.
     */
    public int[] words() {
      return new int[] {multiplier, shift, (int) (offsetNonNegative >> 32), (int) offsetNonNegative,
          (int) (offsetNegative >> 32), (int) offsetNegative};
    }
  }

  /** The shift word of a float-form entry (KILN_RESCALE_FLOAT in kiln_nn_util.h). */
  public static final int FLOAT_SHIFT = -1;

  /**
   * The {@link #WORDS} words of the float form for a reference with no exact rescale (onnxruntime's
   * {@code rne(float32(acc) * m)}, whose float32 product rounds where no straight line steps): the
   * bits of {@code m}, {@link #FLOAT_SHIFT}, then zeros. The C kernels compute that float
   * arithmetic itself for such an entry (kiln_float_rescale).
   */
  public static int[] floatWords(float m) {
    return new int[] {Float.floatToRawIntBits(m), FLOAT_SHIFT, 0, 0, 0, 0};
  }

  /**
   * The kernel switch (kiln_nn_util.h) under which the C kernels have the float form at all; a
   * model with a float-form entry turns it on (KernelContext#useKernelSwitch), every other model
   * compiles the kernels without it.
   */
  public static final String FLOAT_SWITCH = "KILN_RESCALE_FLOAT_USED";

  /** How many of the {@link #WORDS}-word entries of a table are the float form ({@link #floatWords}). */
  public static int floatEntries(int[] table) {
    int n = 0;
    for (int i = 1; i < table.length; i += WORDS) if (table[i] == FLOAT_SHIFT) n++;
    return n;
  }

  private static final BigInteger LIMIT = BigInteger.ONE.shiftLeft(62);

  /**
   * A rescale equal to {@code reference} on every accumulator in [{@code domainLo},
   * {@code domainHi}] (a sub-range of int32), or null.
   *
   * @param reference the reference output code (already offset by {@code zeroPoint} and clamped
   *     to [{@code lo}, {@code hi}]) of an accumulator; must be non-decreasing
   * @param real the real multiplier the reference approximates (>= 0), used to pick the slope
   */
  public static Rescale fit(LongUnaryOperator reference, double real, int zeroPoint, int lo, int hi, long domainLo,
                            long domainHi) {
    return fit(reference, real, zeroPoint, lo, hi, domainLo, domainHi, 31);
  }

  /**
   * As {@link #fit(LongUnaryOperator, double, int, int, int, long, long)} with a multiplier below
   * 2^{@code bits} (1 <= bits <= 31): the shift puts the slope's leading bit at bit bits - 1, so a
   * narrower multiplier is a coarser slope. Null when no multiplier of that width (the nearest three)
   * has offsets that put every step in place.
   */
  public static Rescale fit(LongUnaryOperator reference, double real, int zeroPoint, int lo, int hi, long domainLo,
                            long domainHi, int bits) {
    if (!(real >= 0) || Double.isInfinite(real) || domainLo > domainHi || domainLo < Integer.MIN_VALUE
        || domainHi > Integer.MAX_VALUE || lo > hi || bits < 1 || bits > 31) {
      return null;
    }
    return fit(sideSteps(reference, lo, hi, domainLo, domainHi), real, zeroPoint, lo, domainLo, domainHi, bits);
  }

  /**
   * The fewest significant bits of a multiplier {@link #fit} finds a rescale with (the narrowest
   * exact slope over the domain, clamp included), or 32 when even 31 bits have none.
   */
  public static int fewestBits(LongUnaryOperator reference, double real, int zeroPoint, int lo, int hi, long domainLo,
                               long domainHi) {
    if (!(real >= 0) || Double.isInfinite(real) || domainLo > domainHi || domainLo < Integer.MIN_VALUE
        || domainHi > Integer.MAX_VALUE || lo > hi) {
      return 32;
    }
    long[][] steps = sideSteps(reference, lo, hi, domainLo, domainHi);
    for (int bits = 1; bits <= 31; bits++) {
      if (fit(steps, real, zeroPoint, lo, domainLo, domainHi, bits) != null) return bits;
    }
    return 32;
  }

  /** The reference's steps on the negative side and on the non-negative side of the domain (null where it has none). */
  private static long[][] sideSteps(LongUnaryOperator reference, int lo, int hi, long domainLo, long domainHi) {
    return new long[][] {domainLo < 0 ? steps(reference, lo, hi, domainLo, Math.min(domainHi, -1)) : null,
        domainHi >= 0 ? steps(reference, lo, hi, Math.max(domainLo, 0), domainHi) : null};
  }

  private static Rescale fit(long[][] steps, double real, int zeroPoint, int lo, long domainLo, long domainHi, int bits) {
    long[] negativeSteps = steps[0];
    long[] nonNegativeSteps = steps[1];
    int shift = 0;
    long m = 0;
    long limit = 1L << bits;
    if (real > 0) {
      shift = Math.min(62, bits - 1 - Math.getExponent(real));
      if (shift < 0) return null;
      m = Math.round(Math.scalb(real, shift));
      if (m >= limit) {
        if (shift == 0) return null;
        shift--;
        m = Math.round(Math.scalb(real, shift));
      }
    }
    for (long candidate : real > 0 ? new long[] {m, m + 1, m - 1} : new long[] {0}) {
      if (candidate < 0 || candidate >= limit) continue;
      Long negative = 0L;
      Long nonNegative = 0L;
      if (negativeSteps != null) {
        negative = offset(negativeSteps, candidate, shift, zeroPoint, lo, domainLo, Math.min(domainHi, -1));
      }
      if (nonNegativeSteps != null) {
        nonNegative = offset(nonNegativeSteps, candidate, shift, zeroPoint, lo, Math.max(domainLo, 0), domainHi);
      }
      if (negative != null && nonNegative != null) return new Rescale((int) candidate, shift, nonNegative, negative);
    }
    return null;
  }

  /**
   * For each code t = lo + 1 .. hi, the first accumulator in [domainLo, domainHi] whose reference
   * output is >= t: domainLo if already there, domainHi + 1 if never.
   */
  private static long[] steps(LongUnaryOperator reference, int lo, int hi, long domainLo, long domainHi) {
    long[] steps = new long[hi - lo];
    long from = domainLo;
    for (int t = lo + 1; t <= hi; t++) {
      long first;
      if (reference.applyAsLong(from) >= t) {
        first = from;
      } else if (reference.applyAsLong(domainHi) < t) {
        first = domainHi + 1;
      } else {
        long below = from;     // reference < t
        long above = domainHi; // reference >= t
        while (above - below > 1) {
          long mid = below + (above - below) / 2;
          if (reference.applyAsLong(mid) >= t) {
            above = mid;
          } else {
            below = mid;
          }
        }
        first = above;
      }
      steps[t - lo - 1] = first;
      from = Math.min(first, domainHi);
    }
    return steps;
  }

  /**
   * An offset c such that, on [domainLo, domainHi], floor((a*m + c) / 2^shift) + zeroPoint >= t
   * exactly when a >= steps[t]: c >= (t - zeroPoint) 2^shift - step*m, and
   * c < (t - zeroPoint) 2^shift - (step - 1)*m for every t; the one nearest 2^(shift-1), or null.
   */
  private static Long offset(long[] steps, long m, int shift, int zeroPoint, int lo, long domainLo, long domainHi) {
    BigInteger min = LIMIT.negate();
    BigInteger max = LIMIT;
    BigInteger bm = BigInteger.valueOf(m);
    for (int i = 0; i < steps.length; i++) {
      int t = lo + 1 + i;
      BigInteger level = BigInteger.valueOf((long) t - zeroPoint).shiftLeft(shift);
      long step = steps[i];
      if (step > domainLo) { // the candidate stays below t at step - 1
        BigInteger upper = level.subtract(BigInteger.valueOf(step - 1).multiply(bm)).subtract(BigInteger.ONE);
        if (upper.compareTo(max) < 0) max = upper;
      }
      if (step <= domainHi) { // and reaches t at step
        BigInteger lower = level.subtract(BigInteger.valueOf(step).multiply(bm));
        if (lower.compareTo(min) > 0) min = lower;
      }
    }
    if (min.compareTo(max) > 0) return null;
    BigInteger natural = shift == 0 ? BigInteger.ZERO : BigInteger.ONE.shiftLeft(shift - 1);
    return natural.max(min).min(max).longValueExact();
  }
}
