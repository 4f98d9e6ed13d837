package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.EltwiseHarness.op;
import static dev.kiln.codegen.kernels.EltwiseHarness.tensor;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** int8 MUL: exhaustive over all 65536 code pairs. */
class MulKernelTest {
  /** Scales where the float32 multiplier (TF 2.21) and the double one (TFLite Micro) differ on 8 pairs; TF agreed with float32. */
  static final float[] S = {0.1875305324792862f, 0.1458430141210556f, 2.153681755065918f};
  static final int[] Z = {10, -7, -4};

  @Test void exhaustiveWithDecisiveScales() {
    AddKernelTest.checkGrid(OpType.MUL, S, Z, Activation.NONE, EltwiseReference.mul(S[0], Z[0], S[1], Z[1], S[2], Z[2], Activation.NONE, true));
    var f32 = EltwiseReference.mul(S[0], Z[0], S[1], Z[1], S[2], Z[2], Activation.NONE, true);
    var f64 = EltwiseReference.mul(S[0], Z[0], S[1], Z[1], S[2], Z[2], Activation.NONE, false);
    int differ = 0;
    for (int a = -128; a < 128; a++) for (int b = -128; b < 128; b++) if (f32.applyAsInt(a, b) != f64.applyAsInt(a, b)) differ++;
    assertNotEquals(0, differ, "the scale set should tell the float32 multiplier from the double one");
  }

  @Test void exhaustiveRandomScalesIncludingLeftShifts() {
    Random rnd = new Random(6);
    for (int k = 0; k < 8; k++) {
      float s1 = (float) Math.pow(10, -2 * rnd.nextDouble());
      float s2 = (float) Math.pow(10, -2 * rnd.nextDouble());
      float so = k < 4 ? s1 * s2 * (float) (5 + 200 * rnd.nextDouble()) : s1 * s2 / (float) (1 + 100 * rnd.nextDouble());
      float[] s = {s1, s2, so};
      int[] z = {rnd.nextInt(256) - 128, rnd.nextInt(256) - 128, rnd.nextInt(256) - 128};
      if (k >= 4) z = new int[] {rnd.nextInt(20) - 10, rnd.nextInt(20) - 10, rnd.nextInt(256) - 128};
      Activation act = Activation.values()[k % 4];
      AddKernelTest.checkGrid(OpType.MUL, s, z, act, EltwiseReference.mul(s[0], z[0], s[1], z[1], s[2], z[2], act, true));
    }
  }

  @Test void int8BroadcastShapesMatchReference() {
    Random rnd = new Random(7);
    for (int[][] sh : AddKernelTest.SHAPES) {
      float[] s = {0.05f + rnd.nextFloat(), 0.05f + rnd.nextFloat(), 0f};
      s[2] = s[0] * s[1] * 40;
      int[] z = {rnd.nextInt(256) - 128, rnd.nextInt(256) - 128, rnd.nextInt(256) - 128};
      AddKernelTest.checkInt8(OpType.MUL, sh[0], sh[1], s, z, Activation.RELU, EltwiseReference.mul(s[0], z[0], s[1], z[1], s[2], z[2], Activation.RELU, true), rnd);
    }
  }

  @Test void rejectsLeftShiftOverflow() {
    var e = EltwiseHarness.emitter(OpType.MUL);
    assertThrows(UnsupportedOperationException.class, () -> e.check(op(OpType.MUL, new Options.Elementwise(Activation.NONE),
        List.of(tensor("a", DType.INT8, new int[] {4}, 1f, 0), tensor("b", DType.INT8, new int[] {4}, 1f, 0)),
        tensor("y", DType.INT8, new int[] {4}, 1e-5f, 0))));
  }
}
