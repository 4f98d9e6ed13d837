package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.EltwiseHarness.floats;
import static dev.kiln.codegen.kernels.EltwiseHarness.op;
import static dev.kiln.codegen.kernels.EltwiseHarness.tensor;
import static dev.kiln.codegen.kernels.EltwiseHarness.toFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/** The unary table ops over all 256 int8 codes, and their float versions. Shared by the TANH/RELU/RELU6 tests. */
class LogisticKernelTest {
  interface CodeFn { int apply(int code, float sIn, int zIn, float sOut, int zOut); }

  static final byte[] ALL = new byte[256];

  static {
    for (int i = 0; i < 256; i++) ALL[i] = (byte) (i - 128);
  }

  /** Runs {@code type} on all codes for {@code configs} random quantizations; outScale <= 0 means random. */
  static void exhaustive(OpType type, long seed, float fixedOutScale, int fixedOutZero, CodeFn ref) {
    Random rnd = new Random(seed);
    for (int k = 0; k < 24; k++) {
      float sIn = (float) Math.pow(10, -3 + 3 * rnd.nextDouble());
      int zIn = rnd.nextInt(256) - 128;
      float sOut = fixedOutScale > 0 ? fixedOutScale : (k % 3 == 0 ? sIn : (float) Math.pow(10, -3 + 3 * rnd.nextDouble()));
      int zOut = fixedOutScale > 0 ? fixedOutZero : (k % 3 == 0 ? zIn : rnd.nextInt(256) - 128);
      Op op = op(type, new Options.None(), List.of(tensor("x", DType.INT8, new int[] {256}, sIn, zIn)), tensor("y", DType.INT8, new int[] {256}, sOut, zOut));
      byte[] out = EltwiseHarness.compile(op).run(ALL);
      for (int c = -128; c < 128; c++) {
        assertEquals(ref.apply(c, sIn, zIn, sOut, zOut), out[c + 128], type + " code " + c + " sIn " + sIn + " zIn " + zIn + " sOut " + sOut + " zOut " + zOut);
      }
    }
  }

  static void floatOp(OpType type, DoubleUnaryOperator ref) {
    Random rnd = new Random(type.ordinal());
    float[] x = new float[600];
    for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 8);
    float[] special = {16.619047164916992188f, Math.nextUp(16.619047164916992188f), -9f, Math.nextDown(-9f), 0f, -0f, 6f, 100f, -100f, -150f};
    System.arraycopy(special, 0, x, 0, special.length);
    Op op = op(type, new Options.None(), List.of(tensor("x", DType.FLOAT32, x.length)), tensor("y", DType.FLOAT32, x.length));
    float[] out = toFloats(EltwiseHarness.compile(op).run(floats(x)));
    float[] expected = new float[x.length];
    for (int i = 0; i < x.length; i++) expected[i] = (float) ref.applyAsDouble(x[i]);
    TfCases.assertFloatsClose(expected, out, type + " float");
  }

  @Test void int8AllCodes() {
    exhaustive(OpType.LOGISTIC, 21, 1f / 256, -128, (c, si, zi, so, zo) -> EltwiseReference.logisticOrTanh(c, si, zi, so, zo, false));
    exhaustive(OpType.LOGISTIC, 22, 1f / 256, 17, (c, si, zi, so, zo) -> EltwiseReference.logisticOrTanh(c, si, zi, so, zo, false));
  }

  @Test void float32() {
    floatOp(OpType.LOGISTIC, v -> v > 16.619047164916992188 ? 1.0 : v < -9.0 ? Math.exp(v) : 1 / (1 + Math.exp(-v)));
  }

  @Test void rejectsOtherOutputScales() {
    assertThrows(UnsupportedOperationException.class, () -> EltwiseHarness.emitter(OpType.LOGISTIC).check(op(OpType.LOGISTIC, new Options.None(),
        List.of(tensor("x", DType.INT8, new int[] {4}, 0.1f, 0)), tensor("y", DType.INT8, new int[] {4}, 1f / 255, -128))));
  }
}
