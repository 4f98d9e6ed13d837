package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.EltwiseHarness.floats;
import static dev.kiln.codegen.kernels.EltwiseHarness.op;
import static dev.kiln.codegen.kernels.EltwiseHarness.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.compile.FixedPoint;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** QUANTIZE float32 -> int8/uint8 (float32 division, round half away) and 8-bit requantization. */
class QuantizeKernelTest {

  @Test void floatToInt8IncludingHalfwayValues() {
    Random rnd = new Random(51);
    for (DType outType : new DType[] {DType.INT8, DType.UINT8}) {
      for (int k = 0; k < 6; k++) {
        float s = (float) Math.pow(10, -2 + 2 * rnd.nextDouble());
        int z = rnd.nextInt(256) - (outType == DType.INT8 ? 128 : 0);
        float[] x = new float[1000];
        for (int i = 0; i < 400; i++) x[i] = ((i - 200) + 0.5f) * s; // halfway points (as far as float32 allows)
        for (int i = 400; i < 990; i++) x[i] = (float) (rnd.nextGaussian() * 200 * s);
        float[] extreme = {0f, -0f, 1e3f, -1e3f, 3e7f * s, -3e7f * s, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        System.arraycopy(extreme, 0, x, 990, extreme.length);
        Op op = op(OpType.QUANTIZE, new Options.None(), List.of(tensor("x", DType.FLOAT32, x.length)), tensor("y", outType, new int[] {x.length}, s, z));
        byte[] out = EltwiseHarness.compile(op).run(floats(x));
        int lo = outType == DType.INT8 ? -128 : 0;
        int hi = outType == DType.INT8 ? 127 : 255;
        for (int i = 0; i < x.length; i++) {
          float q = x[i] / s;
          long r = Float.isInfinite(q) ? (q > 0 ? Long.MAX_VALUE / 2 : Long.MIN_VALUE / 2) : FixedPoint.rhaz((double) q);
          long expected = Math.max(lo, Math.min(hi, r + z));
          int got = outType == DType.INT8 ? out[i] : out[i] & 0xff;
          assertEquals(expected, got, "x = " + x[i] + " scale " + s + " zero point " + z);
        }
      }
    }
  }

  @Test void requantizeAllCodes() {
    Random rnd = new Random(52);
    DType[][] pairs = {{DType.INT8, DType.INT8}, {DType.UINT8, DType.INT8}, {DType.INT8, DType.UINT8}, {DType.UINT8, DType.UINT8}};
    for (DType[] p : pairs) {
      for (int k = 0; k < 8; k++) {
        float sIn = (float) Math.pow(10, -3 + 3 * rnd.nextDouble());
        float ratio = new float[] {1f, 0.5f, 2f, 1f / 3, 3.7f, 0.05f + 20 * rnd.nextFloat(), 1f, 1f}[k];
        float sOut = sIn / ratio;
        int zIn = rnd.nextInt(256) - (p[0] == DType.INT8 ? 128 : 0);
        int zOut = k == 7 ? zIn + (p[0] == p[1] ? 0 : p[1] == DType.INT8 ? -128 : 128) : rnd.nextInt(256) - (p[1] == DType.INT8 ? 128 : 0);
        Op op = op(OpType.QUANTIZE, new Options.None(), List.of(tensor("x", p[0], new int[] {256}, sIn, zIn)), tensor("y", p[1], new int[] {256}, sOut, zOut));
        byte[] in = new byte[256];
        for (int i = 0; i < 256; i++) in[i] = (byte) i;
        byte[] out = EltwiseHarness.compile(op).run(in);
        FixedPoint.Multiplier m = FixedPoint.quantizeMultiplier((double) sIn / (double) sOut);
        for (int i = 0; i < 256; i++) {
          int code = p[0] == DType.INT8 ? (byte) i : i;
          int v = FixedPoint.mbqm(code - zIn, m) + zOut;
          int expected = p[1] == DType.INT8 ? Math.max(-128, Math.min(127, v)) : Math.max(0, Math.min(255, v));
          int got = p[1] == DType.INT8 ? out[i] : out[i] & 0xff;
          assertEquals(expected, got, p[0] + "->" + p[1] + " code " + code);
        }
      }
    }
  }

  @Test void rejectsUnsupportedTypes() {
    var e = EltwiseHarness.emitter(OpType.QUANTIZE);
    assertThrows(UnsupportedOperationException.class, () -> e.check(op(OpType.QUANTIZE, new Options.None(),
        List.of(tensor("x", DType.FLOAT32, 4)), tensor("y", DType.INT32, new int[] {4}, 0.1f, 0))));
    assertThrows(UnsupportedOperationException.class, () -> e.check(op(OpType.QUANTIZE, new Options.None(),
        List.of(tensor("x", DType.FLOAT32, 4)), tensor("y", DType.INT8, 4))));
  }
}
