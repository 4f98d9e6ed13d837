package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.EltwiseHarness.floats;
import static dev.kiln.codegen.kernels.EltwiseHarness.op;
import static dev.kiln.codegen.kernels.EltwiseHarness.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The ONNX flavours of the 8-bit ops: QUANTIZE with Options.Quantize(halfToEven) (ONNX
 * QuantizeLinear: float32 division, ties to even; requantization as DequantizeLinear then
 * QuantizeLinear in float32) and CLAMP on int8 codes, compiled and run in C against the formula
 * evaluated here.
 */
class OnnxRoundingKernelTest {

  @Test void quantizeLinearRoundsHalfToEvenIncludingExactTies() {
    Random rnd = new Random(61);
    for (DType outType : new DType[] {DType.INT8, DType.UINT8}) {
      for (int k = 0; k < 6; k++) {
        float s = k == 0 ? 0.5f : (float) Math.pow(10, -2 + 2 * rnd.nextDouble());
        int z = rnd.nextInt(256) - (outType == DType.INT8 ? 128 : 0);
        float[] x = new float[1000];
        for (int i = 0; i < 400; i++) x[i] = ((i - 200) + 0.5f) * s; // ties, exact for s = 0.5
        for (int i = 400; i < 994; i++) x[i] = (float) (rnd.nextGaussian() * 200 * s);
        float[] extreme = {0f, -0f, 1e3f, -1e3f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        System.arraycopy(extreme, 0, x, 994, extreme.length);
        Op op = op(OpType.QUANTIZE, new Options.Quantize(true), List.of(tensor("x", DType.FLOAT32, x.length)),
            tensor("y", outType, new int[] {x.length}, s, z));
        byte[] out = EltwiseHarness.compile(op).run(floats(x));
        int lo = outType == DType.INT8 ? -128 : 0;
        int hi = outType == DType.INT8 ? 127 : 255;
        for (int i = 0; i < x.length; i++) {
          double q = Math.rint(x[i] / s); // float32 division, then ties to even
          long expected = (long) Math.max(lo, Math.min(hi, q + z));
          int got = outType == DType.INT8 ? out[i] : out[i] & 0xff;
          assertEquals(expected, got, "x = " + x[i] + " scale " + s + " zero point " + z);
        }
      }
    }
  }

  @Test void requantizationIsDequantizeThenQuantizeInFloat() {
    // 0.05 / 0.02 = 2.5: odd codes land exactly on ties
    Op op = op(OpType.QUANTIZE, new Options.Quantize(true), List.of(tensor("x", DType.INT8, new int[] {256}, 0.05f, -10)),
        tensor("y", DType.UINT8, new int[] {256}, 0.02f, 128));
    byte[] in = new byte[256];
    for (int i = 0; i < 256; i++) in[i] = (byte) (i - 128);
    byte[] out = EltwiseHarness.compile(op).run(in);
    for (int i = 0; i < 256; i++) {
      float real = (float) ((i - 128) + 10) * 0.05f;
      long expected = (long) Math.max(0, Math.min(255, Math.rint(real / 0.02f) + 128));
      assertEquals(expected, out[i] & 0xff, "code " + (i - 128));
    }
  }

  @Test void clampOnInt8CodesClampsTheRealValueAndRequantizes() {
    Op op = op(OpType.CLAMP, new Options.Clamp(-0.3f, 0.45f), List.of(tensor("x", DType.INT8, new int[] {256}, 0.05f, -10)),
        tensor("y", DType.INT8, new int[] {256}, 0.02f, 0));
    byte[] in = new byte[256];
    for (int i = 0; i < 256; i++) in[i] = (byte) (i - 128);
    byte[] out = EltwiseHarness.compile(op).run(in);
    for (int i = 0; i < 256; i++) {
      float real = 0.05f * (float) ((i - 128) + 10);
      real = Math.min(Math.max(real, -0.3f), 0.45f);
      assertEquals((long) Math.max(-128, Math.min(127, Math.rint(real / 0.02f))), out[i], "code " + (i - 128));
    }
  }

  @Test void clampOnFloatsKeepsInfiniteBoundsOpen() {
    Op op = op(OpType.CLAMP, new Options.Clamp(Float.NEGATIVE_INFINITY, 0.25f), List.of(tensor("x", DType.FLOAT32, 4)),
        tensor("y", DType.FLOAT32, 4));
    float[] got = EltwiseHarness.toFloats(EltwiseHarness.compile(op).run(floats(new float[] {-1e30f, -1f, 0.25f, 7f})));
    assertEquals(List.of(-1e30f, -1f, 0.25f, 0.25f), List.of(got[0], got[1], got[2], got[3]));
  }
}
