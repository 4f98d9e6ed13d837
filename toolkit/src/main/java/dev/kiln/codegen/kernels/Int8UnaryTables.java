package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.compile.FixedPoint;
import dev.kiln.compile.FixedPoint.Multiplier;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import java.util.function.IntUnaryOperator;

/**
 * The int8 unary ops of the elementwise family as 256-entry tables: the output code depends only on
 * the input code, so TFLite 2.21's per-element arithmetic (its Prepare constants included) is run
 * here for every code and the device only looks the result up. Each function names the TFLite
 * routine it follows.
 */
final class Int8UnaryTables {
  private Int8UnaryTables() {}

  /** The table of {@code op} (int8 in, int8 out, per-tensor quantization already checked). */
  static byte[] table(Op op) {
    Quantization qi = op.input(0).quantization();
    Quantization qo = op.output().quantization();
    float sIn = qi.scale();
    int zIn = qi.zeroPoint();
    float sOut = qo.scale();
    int zOut = qo.zeroPoint();
    IntUnaryOperator f = switch (op.type()) {
      case ABS -> abs(op, sIn, zIn, sOut, zOut);
      case NEG -> code -> (byte) -code; // TFLite negates the raw code (wrapping) and ignores the quantization
      case SQRT -> sqrt(sIn, zIn, sOut, zOut);
      case RSQRT -> rsqrt(op, sIn, zIn, sOut, zOut);
      case EXP -> lut(sIn, zIn, sOut, zOut, r -> (float) Math.exp(r));
      case LOG -> {
        float outputMin = (float) (-128 - zOut) * sOut;
        yield lut(sIn, zIn, sOut, zOut, r -> r <= 0f ? outputMin : (float) Math.log(r));
      }
      case ELU -> lut(sIn, zIn, sOut, zOut, r -> r < 0f ? (float) Math.expm1(r) : r);
      case GELU -> op.options(Options.Gelu.class).approximate()
          ? lut(sIn, zIn, sOut, zOut, Int8UnaryTables::geluTanh)
          : lut(sIn, zIn, sOut, zOut, Int8UnaryTables::gelu);
      case LEAKY_RELU -> leakyRelu(op, sIn, zIn, sOut, zOut, op.options(Options.LeakyRelu.class).alpha());
      case RELU_N1_TO_1 -> reluX(op, sIn, zIn, sOut, zOut, -1f, 1f);
      case HARD_SWISH -> hardSwish(op, sIn, zIn, sOut, zOut);
      default -> throw new IllegalStateException("no int8 table for " + op.type());
    };
    return LookupTableEmitter.signedTable(f);
  }

  /** True for the ops this class has a table for. */
  static boolean has(OpType type) {
    return switch (type) {
      case ABS, NEG, SQRT, RSQRT, EXP, LOG, ELU, GELU, LEAKY_RELU, RELU_N1_TO_1, HARD_SWISH -> true;
      default -> false;
    };
  }

  /**
   * TFLite's LUTPopulate (integer_ops/lut.h) in float32, rounding half away from zero; the float
   * function is evaluated in double and rounded to float (C's expf/logf may differ in the last bit
   * on rare inputs, tflite-numerics.md 2.5). A quotient beyond int32 becomes INT32_MIN (what x86's
   * conversion gives TFLite) and so the minimum code.
   */
  static IntUnaryOperator lut(float sIn, int zIn, float sOut, int zOut, LookupTableEmitter.FloatFn fn) {
    float inverseScale = 1f / sOut;
    return code -> {
      float dequantized = sIn * (float) (code - zIn);
      float transformed = fn.apply(dequantized);
      float rescaled = roundf(transformed * inverseScale);
      float shifted = rescaled + (float) zOut;
      int quantized = Float.isNaN(shifted) || Math.abs(shifted) >= 2147483648f ? Integer.MIN_VALUE : (int) shifted;
      return Math.max(-128, Math.min(127, quantized));
    };
  }

  private static float roundf(float x) {
    if (Float.isNaN(x) || Float.isInfinite(x) || Math.abs(x) >= 8388608f) return x;
    return (float) FixedPoint.rhaz(x);
  }

  /** gelu.h GeluTransform: 0.5 x (1 + erf(x / sqrt 2)), in float32 steps. */
  static float gelu(float x) {
    return 0.5f * x * (1f + (float) erf((double) (x * (float) (1 / Math.sqrt(2)))));
  }

  /** gelu.h GeluTransformApproximate. */
  static float geluTanh(float x) {
    float sqrt2OverPi = (float) Math.sqrt(2 / Math.PI);
    return 0.5f * x * (1f + (float) Math.tanh(sqrt2OverPi * (x + 0.044715f * x * x * x)));
  }

  /**
   * erf in double precision (Java has none): the Maclaurin series below |x| = 2.5 (cancellation costs
   * about 3 of 16 digits), a continued fraction for erfc above; far below float32 resolution either way.
   */
  static double erf(double x) {
    double ax = Math.abs(x);
    if (ax < 2.5) {
      double sum = x;
      double term = x;
      double x2 = x * x;
      for (int n = 1; n < 100; n++) {
        term *= -x2 / n;
        double add = term / (2 * n + 1);
        sum += add;
        if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
      }
      return 2 / Math.sqrt(Math.PI) * sum;
    }
    double f = 0;
    for (int k = 80; k >= 1; k--) f = k / 2.0 / (ax + f);
    double r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
    return x < 0 ? -r : r;
  }

  /** elementwise.cc AbsEvalQuantized: |x - z_in| rescaled by s_in/s_out (float32 ratio) unless the scales are equal. */
  static IntUnaryOperator abs(Op op, float sIn, int zIn, float sOut, int zOut) {
    boolean rescale = sIn != sOut;
    Multiplier m = rescale ? FixedPoint.quantizeMultiplier(sIn / sOut) : null;
    if (rescale) LookupTableEmitter.requireNoOverflow(op, m, zIn);
    return code -> {
      int value = Math.abs(code - zIn);
      int out = rescale ? FixedPoint.mbqm(value, m) + zOut : value + zOut;
      return Math.max(-128, Math.min(127, out));
    };
  }

  /**
   * elementwise.cc SqrtEvalQuantized: sqrt of the float32 dequantized value, divided by s_out and
   * truncated toward zero. A negative real input (TFLite stops with an error) gives the output zero point.
   */
  static IntUnaryOperator sqrt(float sIn, int zIn, float sOut, int zOut) {
    return code -> {
      float dequantized = sIn * (float) (code - zIn);
      if (!(dequantized >= 0f)) return Math.max(-128, Math.min(127, zOut));
      float root = (float) Math.sqrt(dequantized);
      int out = (int) (root / sOut) + zOut;
      return Math.max(-128, Math.min(127, out));
    };
  }

  /**
   * elementwise.cc RsqrtEvalQuantizedInt8: 1/sqrt(x - z_in) in fixed point (GetInvSqrtQuantizedMultiplierExp),
   * rescaled by 1/(sqrt(s_in) s_out); code z_in gives 127. Codes below z_in (TFLite stops with an error) give 127.
   */
  static IntUnaryOperator rsqrt(Op op, float sIn, int zIn, float sOut, int zOut) {
    float denominator = (float) Math.sqrt(sIn) * sOut;
    double scale = 1.0 / (double) denominator;
    if (!(scale > 0) || Double.isInfinite(scale)) throw unsupported(op, "the scale 1/(sqrt(s_in)*s_out) = " + scale + " is not finite");
    Multiplier out = FixedPoint.quantizeMultiplier(scale);
    final int kShift = 20;
    return code -> {
      int value = code - zIn;
      if (value <= 0) return 127;
      int[] inv = invSqrt(value);
      int data = mbqmWide(1, inv[0], inv[1] + kShift);
      int result = mbqmWide(data, out.multiplier(), out.shift() - kShift) + zOut;
      return Math.max(-128, Math.min(127, result));
    };
  }

  /** MBQM for any shift (the left shift applied to x as a 32-bit product, as in TFLite). */
  private static int mbqmWide(int x, int q, int shift) {
    int left = Math.max(shift, 0);
    int right = Math.max(-shift, 0);
    int shifted = left >= 32 ? 0 : x * (1 << left);
    int t = FixedPoint.srdhm(shifted, q);
    return right >= 32 ? 0 : FixedPoint.rdbpot(t, Math.min(right, 31));
  }

  /** common.h GetInvSqrtQuantizedMultiplierExp(input, kReverseShift = -1): {multiplier, shift}. */
  static int[] invSqrt(int input) {
    if (input <= 1) return new int[] {Integer.MAX_VALUE, 0};
    int shift = 11;
    while (input >= (1 << 29)) {
      input /= 4;
      ++shift;
    }
    int maxLeftShiftBits = Integer.numberOfLeadingZeros(input) - 1;
    int leftShiftBitPairs = maxLeftShiftBits / 2 - 1;
    shift -= leftShiftBitPairs;
    input <<= 2 * leftShiftBitPairs;
    // F3 fixed point (3 integer bits), Newton-Raphson from x = 1
    int fixedInput = input >> 1;
    int halfInput = FixedPoint.rdbpot(fixedInput, 1);
    int halfThree = (1 << 28) + (1 << 27);
    int x = 1 << 28;
    for (int i = 0; i < 5; i++) {
      int x3 = satShl(FixedPoint.srdhm(FixedPoint.srdhm(x, x), x), 6);
      x = satShl(FixedPoint.srdhm(halfThree, x) - FixedPoint.srdhm(halfInput, x3), 3);
    }
    x = FixedPoint.srdhm(x, 1518500250);
    if (shift < 0) {
      x <<= -shift;
      shift = 0;
    }
    return new int[] {x, -shift};
  }

  /** gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent. */
  static int satShl(int x, int n) {
    long threshold = (1L << (31 - n)) - 1;
    if (x > threshold) return Integer.MAX_VALUE;
    if (x < -threshold) return Integer.MIN_VALUE;
    return x << n;
  }

  /** activations.cc LeakyRelu int8 (QuantizeLeakyRelu): identity and alpha multipliers from float32 ratios. */
  static IntUnaryOperator leakyRelu(Op op, float sIn, int zIn, float sOut, int zOut, float alpha) {
    float alphaRatio = sIn * alpha / sOut;
    float identityRatio = sIn / sOut;
    if (!(alphaRatio >= 0) || Float.isInfinite(alphaRatio)) {
      throw unsupported(op, "alpha " + alpha + " gives the multiplier s_in*alpha/s_out = " + alphaRatio
          + "; TFLite's int8 kernel needs a finite non-negative one (alpha >= 0)");
    }
    Multiplier ma = FixedPoint.quantizeMultiplier(alphaRatio);
    Multiplier mi = FixedPoint.quantizeMultiplier(identityRatio);
    LookupTableEmitter.requireNoOverflow(op, ma, zIn);
    LookupTableEmitter.requireNoOverflow(op, mi, zIn);
    return code -> {
      int v = code - zIn;
      int out = zOut + (v >= 0 ? FixedPoint.mbqm(v, mi) : FixedPoint.mbqm(v, ma));
      return Math.max(-128, Math.min(127, out));
    };
  }

  /** activations.cc QuantizedReluX (RELU_N1_TO_1): MBQM by the float32 ratio s_in/s_out, clamped to [lo, hi] in output codes. */
  static IntUnaryOperator reluX(Op op, float sIn, int zIn, float sOut, int zOut, float lo, float hi) {
    Multiplier m = FixedPoint.quantizeMultiplier(sIn / sOut);
    LookupTableEmitter.requireNoOverflow(op, m, zIn);
    int min = Math.max(-128, zOut + FixedPoint.rhaz(lo / sOut));
    int max = Math.min(127, zOut + FixedPoint.rhaz(hi / sOut));
    return code -> {
      int v = zOut + FixedPoint.mbqm(code - zIn, m);
      v = Math.max(min, v);
      return Math.min(max, v);
    };
  }

  /** reference_ops::HardSwish (int16 fixed point inside), with HardSwishPrepare's multipliers. */
  static IntUnaryOperator hardSwish(Op op, float sIn, int zIn, float sOut, int zOut) {
    float hiresInputScale = (1.0f / 128.0f) * sIn;
    float reluishScale = 3.0f / 32768.0f;
    Multiplier out = FixedPoint.quantizeMultiplier(hiresInputScale / sOut);
    Multiplier reluish = FixedPoint.quantizeMultiplier(hiresInputScale / reluishScale);
    if (out.shift() > 0) {
      throw unsupported(op, "the output scale " + sOut + " is too small for the input scale " + sIn
          + " (s_in/128/s_out must be below 1, as TFLite requires); re-quantize the model");
    }
    short outM = downScale(out.multiplier());
    short reluM = downScale(reluish.multiplier());
    int outExp = out.shift();
    int reluExp = reluish.shift();
    return code -> {
      short inputValue = (short) (code - zIn);
      short hires = (short) (inputValue * (1 << 7));
      short preshiftOut = srdhm16(hires, outM);
      short reluishValue = hires;
      if (reluExp > 0) reluishValue = satShl16(reluishValue, reluExp - 1);
      reluishValue = srdhm16(reluishValue, reluM);
      if (reluExp > 0) reluishValue = satShl16(reluishValue, 1);
      if (reluExp < 0) reluishValue = (short) FixedPoint.rdbpot(reluishValue, -reluExp);
      reluishValue = (short) ((reluishValue + (1 << 15)) >> 1);
      short preshiftOutput = sdhm16(reluishValue, preshiftOut);
      short outputValue = (short) FixedPoint.rdbpot(preshiftOutput, -outExp);
      outputValue = (short) (outputValue + zOut);
      return Math.max(-128, Math.min(127, outputValue));
    };
  }

  /** DownScaleInt32ToInt16Multiplier. */
  static short downScale(int m) {
    if (m >= Integer.MAX_VALUE - (1 << 15)) return Short.MAX_VALUE;
    return (short) ((m + (1 << 15)) >> 16);
  }

  /** gemmlowp SaturatingRoundingDoublingHighMul on int16. */
  static short srdhm16(short a, short b) {
    if (a == b && a == Short.MIN_VALUE) return Short.MAX_VALUE;
    int ab = a * b;
    int nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (short) ((ab + nudge) / (1 << 15));
  }

  /** SaturatingDoublingHighMul (rounds toward zero). */
  static short sdhm16(short a, short b) {
    if (a == b && a == Short.MIN_VALUE) return Short.MAX_VALUE;
    return (short) ((a * b) / (1 << 15));
  }

  static short satShl16(short v, int amount) {
    long r = (long) v * (1L << amount);
    return (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, r));
  }
}
