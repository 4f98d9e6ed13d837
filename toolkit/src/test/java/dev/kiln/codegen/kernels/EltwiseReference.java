package dev.kiln.codegen.kernels;

import dev.kiln.compile.FixedPoint;
import dev.kiln.compile.FixedPoint.Multiplier;
import dev.kiln.ir.Activation;
import java.util.function.IntBinaryOperator;

/**
 * Straightforward Java versions of tflite-numerics.md's formulas, written independently of the
 * emitters and the C kernels (no fused rounding, no tables, no merged broadcast dimensions), used
 * as the expected values of the kernel tests.
 */
final class EltwiseReference {
  private EltwiseReference() {}

  static int clamp(int v, int lo, int hi) { return Math.min(hi, Math.max(lo, v)); }

  /** numpy broadcasting by explicit multi-indices: out[i] = f(a[ia], b[ib]). */
  static int[] broadcast(int[] a, int[] sa, int[] b, int[] sb, int[] so, IntBinaryOperator f) {
    int n = 1;
    for (int d : so) n *= d;
    int[] out = new int[n];
    int[] idx = new int[so.length];
    for (int i = 0; i < n; i++) {
      int rem = i;
      for (int d = so.length - 1; d >= 0; d--) {
        idx[d] = rem % so[d];
        rem /= so[d];
      }
      out[i] = f.applyAsInt(a[offset(idx, sa)], b[offset(idx, sb)]);
    }
    return out;
  }

  private static int offset(int[] outIdx, int[] shape) {
    int off = 0;
    int lead = outIdx.length - shape.length;
    for (int d = 0; d < shape.length; d++) {
      int i = shape[d] == 1 ? 0 : outIdx[lead + d];
      off = off * shape[d] + i;
    }
    return off;
  }

  // ---- ADD / SUB / MUL int8 ----------------------------------------------------------------------

  /** int8 ADD (sign = +1) or SUB (sign = -1) of two codes, Prepare and Eval per section 6.1. */
  static IntBinaryOperator addSub(float s1, int z1, float s2, int z2, float so, int zo, Activation act, int sign) {
    float twiceMaxF = 2 * Math.max(s1, s2);
    double twiceMax = twiceMaxF;
    Multiplier m1 = FixedPoint.quantizeMultiplier(s1 / twiceMax);
    Multiplier m2 = FixedPoint.quantizeMultiplier(s2 / twiceMax);
    Multiplier mo = FixedPoint.quantizeMultiplier(twiceMax / ((1 << 20) * (double) so));
    int[] range = FixedPoint.activationRangeInt8(act, so, zo);
    return (x1, x2) -> {
      int a = (x1 - z1) * (1 << 20);
      int b = (x2 - z2) * (1 << 20);
      int sa = FixedPoint.rdbpot(FixedPoint.srdhm(a, m1.multiplier()), -m1.shift());
      int sb = FixedPoint.rdbpot(FixedPoint.srdhm(b, m2.multiplier()), -m2.shift());
      int raw = sign > 0 ? sa + sb : sa - sb;
      int y = FixedPoint.rdbpot(FixedPoint.srdhm(raw, mo.multiplier()), -mo.shift()) + zo;
      return clamp(y, range[0], range[1]);
    };
  }

  /** int8 MUL (section 6.2); {@code float32Multiplier = false} gives TFLite Micro's double variant. */
  static IntBinaryOperator mul(float s1, int z1, float s2, int z2, float so, int zo, Activation act, boolean float32Multiplier) {
    double real = float32Multiplier ? (double) ((s1 * s2) / so) : (double) s1 * s2 / so;
    Multiplier m = FixedPoint.quantizeMultiplier(real);
    int[] range = FixedPoint.activationRangeInt8(act, so, zo);
    return (x1, x2) -> clamp(FixedPoint.mbqm((x1 - z1) * (x2 - z2), m) + zo, range[0], range[1]);
  }

  // ---- SOFTMAX int8 (section 5.1, gemmlowp fixed point) -------------------------------------------

  static int satShl(int x, int n) {
    int thr = (int) ((1L << (31 - n)) - 1);
    if (x > thr) return Integer.MAX_VALUE;
    if (x < -thr) return Integer.MIN_VALUE;
    return x << n;
  }

  static int expOnInterval(int a) {
    int x = a + (1 << 28);
    int x2 = FixedPoint.srdhm(x, x);
    int x3 = FixedPoint.srdhm(x2, x);
    int x4 = FixedPoint.srdhm(x2, x2);
    int p = FixedPoint.rdbpot(FixedPoint.srdhm(FixedPoint.rdbpot(x4, 2) + x3, 715827883) + x2, 1);
    return 1895147668 + FixedPoint.srdhm(1895147668, x + p);
  }

  static int expOnNegativeValues(int a, int k) {
    int f = 31 - k;
    int quarter = 1 << (f - 2);
    int r = (a & (quarter - 1)) - quarter;
    int result = expOnInterval(k > 0 ? satShl(r, k) : r);
    int rem = r - a;
    int[] mult = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    for (int e = -2; e <= 4; e++) {
      if (k > e && (rem & (1 << (f + e))) != 0) result = FixedPoint.srdhm(result, mult[e + 2]);
    }
    if (k > 5 && a < -(1 << (36 - k))) result = 0;
    if (a == 0) result = Integer.MAX_VALUE;
    return result;
  }

  static int oneOverOnePlusX(int a) {
    long sum = (long) a + Integer.MAX_VALUE;
    int h = (int) ((sum + (sum >= 0 ? 1 : -1)) / 2);
    int x = 1515870810 + FixedPoint.srdhm(h, -1010580540);
    for (int i = 0; i < 3; i++) {
      int u = (1 << 29) - FixedPoint.srdhm(h, x);
      x = x + satShl(FixedPoint.srdhm(x, u), 2);
    }
    return satShl(x, 1);
  }

  /**
   * One int8 softmax row (output scale 1/256, zero point -128). Returns null where TFLite aborts
   * (a row sum of exponentials of 512 or more needs a shift above 31).
   */
  static int[] softmaxRow(int[] x, float beta, float inputScale) {
    double real = Math.min((double) beta * inputScale * (1 << 26), (double) ((1L << 31) - 1));
    Multiplier m = FixedPoint.quantizeMultiplier(real);
    int ls = m.shift();
    int diffMin = -(int) Math.floor(31.0 * (1L << 26) / (double) (1L << ls));
    int mx = -128;
    for (int v : x) mx = Math.max(mx, v);
    int sum = 0;
    for (int v : x) {
      int d = v - mx;
      if (d >= diffMin) {
        int e = expOnNegativeValues(FixedPoint.srdhm((int) ((long) d << ls), m.multiplier()), 5);
        sum += FixedPoint.rdbpot(e, 12);
      }
    }
    int hp = Integer.numberOfLeadingZeros(sum);
    int nb = 12 - hp;
    int s1 = (int) ((((long) sum << hp) & 0xffffffffL) - (1L << 31));
    int inv = oneOverOnePlusX(s1);
    int expo = nb + 31 - 8;
    if (expo > 31) return null;
    int[] out = new int[x.length];
    for (int c = 0; c < x.length; c++) {
      int d = x[c] - mx;
      if (d >= diffMin) {
        int e = expOnNegativeValues(FixedPoint.srdhm((int) ((long) d << ls), m.multiplier()), 5);
        out[c] = clamp(FixedPoint.rdbpot(FixedPoint.srdhm(inv, e), expo) - 128, -128, 127);
      } else {
        out[c] = -128;
      }
    }
    return out;
  }

  // ---- unary int8 ----------------------------------------------------------------------------------

  /** LOGISTIC (tanh = false) or TANH table entry for one code, section 7.1/7.2 (double exp/tanh rounded to float). */
  static int logisticOrTanh(int code, float sIn, int zIn, float sOut, int zOut, boolean tanh) {
    float r = sIn * (float) (code - zIn);
    float t = tanh ? (float) Math.tanh(r) : 1f / (1f + (float) Math.exp(-r));
    float inv = 1f / sOut;
    float u = FixedPoint.rhaz(t * inv);
    return clamp((int) (u + (float) zOut), -128, 127);
  }

  /** RELU / RELU6 int8, section 7.3. */
  static int relu(int code, float sIn, int zIn, float sOut, int zOut, boolean six) {
    Multiplier m = FixedPoint.quantizeMultiplier(sIn / sOut);
    int lo = Math.max(-128, zOut);
    int hi = six ? Math.min(127, zOut + FixedPoint.rhaz(6f / sOut)) : 127;
    return Math.min(hi, Math.max(lo, zOut + FixedPoint.mbqm(code - zIn, m)));
  }
}
