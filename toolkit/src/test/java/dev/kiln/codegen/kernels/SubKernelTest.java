package dev.kiln.codegen.kernels;

import dev.kiln.ir.Activation;
import dev.kiln.ir.OpType;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * int8 SUB: ADD's parameters, the rescaled inputs subtracted (TF 2.21 reference SubElementwise).
 * The first two scale sets are ones where negating the second multiplier instead (older TFLite)
 * changes an output; TF 2.21 BUILTIN_REF agrees with the subtraction (tf/sub.json holds the
 * interpreter's outputs for the same scale sets, checked by SubTfReferenceTest).
 */
class SubKernelTest {
  @Test void int8GridMatchesReference() {
    float[][] s = {{0.15661045908927917f, 0.13214007019996643f, 0.0356309600174427f}, {0.14638127386569977f, 0.1372324377298355f, 0.5130890011787415f}};
    int[][] z = {{27, 37, 124}, {-109, -74, -87}};
    for (int k = 0; k < s.length; k++) {
      AddKernelTest.checkGrid(OpType.SUB, s[k], z[k], Activation.NONE,
          EltwiseReference.addSub(s[k][0], z[k][0], s[k][1], z[k][1], s[k][2], z[k][2], Activation.NONE, -1));
    }
    Random rnd = new Random(4);
    for (int k = 0; k < 6; k++) {
      float[] sc = {0.01f + rnd.nextFloat(), 0.01f + rnd.nextFloat(), 0.02f + rnd.nextFloat()};
      int[] zp = {rnd.nextInt(256) - 128, rnd.nextInt(256) - 128, rnd.nextInt(256) - 128};
      Activation act = Activation.values()[k % 4];
      AddKernelTest.checkGrid(OpType.SUB, sc, zp, act, EltwiseReference.addSub(sc[0], zp[0], sc[1], zp[1], sc[2], zp[2], act, -1));
    }
  }

  @Test void int8BroadcastShapesMatchReference() {
    Random rnd = new Random(5);
    for (int[][] sh : AddKernelTest.SHAPES) {
      float[] s = {0.05f + rnd.nextFloat(), 0.05f + rnd.nextFloat(), 0.1f + rnd.nextFloat()};
      int[] z = {rnd.nextInt(256) - 128, rnd.nextInt(256) - 128, rnd.nextInt(256) - 128};
      AddKernelTest.checkInt8(OpType.SUB, sh[0], sh[1], s, z, Activation.RELU, EltwiseReference.addSub(s[0], z[0], s[1], z[1], s[2], z[2], Activation.RELU, -1), rnd);
      AddKernelTest.checkInt8(OpType.SUB, sh[1], sh[0], s, z, Activation.NONE, EltwiseReference.addSub(s[0], z[0], s[1], z[1], s[2], z[2], Activation.NONE, -1), rnd);
    }
  }
}
