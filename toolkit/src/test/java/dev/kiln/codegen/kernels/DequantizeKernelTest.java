package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.EltwiseHarness.op;
import static dev.kiln.codegen.kernels.EltwiseHarness.tensor;
import static dev.kiln.codegen.kernels.EltwiseHarness.toFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DequantizeKernelTest {
  @Test void allCodesBitExact() {
    Random rnd = new Random(61);
    for (DType t : new DType[] {DType.INT8, DType.UINT8}) {
      for (int k = 0; k < 6; k++) {
        float s = (float) Math.pow(10, -4 + 4 * rnd.nextDouble());
        int z = rnd.nextInt(256) - (t == DType.INT8 ? 128 : 0);
        Op op = op(OpType.DEQUANTIZE, new Options.None(), List.of(tensor("x", t, new int[] {256}, s, z)), tensor("y", DType.FLOAT32, 256));
        byte[] in = new byte[256];
        for (int i = 0; i < 256; i++) in[i] = (byte) i;
        float[] out = toFloats(EltwiseHarness.compile(op).run(in));
        for (int i = 0; i < 256; i++) {
          int code = t == DType.INT8 ? (byte) i : i;
          assertEquals((float) ((double) s * (code - z)), out[i], 0f, t + " code " + code);
        }
      }
    }
  }
}
