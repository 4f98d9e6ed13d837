package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.EltwiseHarness.floats;
import static dev.kiln.codegen.kernels.EltwiseHarness.op;
import static dev.kiln.codegen.kernels.EltwiseHarness.tensor;
import static dev.kiln.codegen.kernels.EltwiseHarness.toFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.util.List;
import java.util.Random;
import java.util.function.IntBinaryOperator;
import org.junit.jupiter.api.Test;

/** ADD (and the shared broadcast machinery) against {@link EltwiseReference}. */
class AddKernelTest {
  static final int[][][] SHAPES = {
      {{7}, {7}}, {{2, 3, 4, 5}, {3, 1, 5}}, {{1, 4, 5, 3}, {3}}, {{4, 1}, {2, 1, 3}}, {{6}, {}}, {{}, {2, 3}},
      {{2, 1, 3, 1, 2}, {1, 4, 1, 5, 1}}, {{1, 2, 1, 3, 1, 2}, {2, 1, 4, 1, 3, 2}}, {{3, 1, 1}, {3, 1, 1}}, {{1}, {1}},
      {{2, 3}, {2, 1}}, {{5, 1, 4}, {1, 1, 4}}};

  static int[] outShape(int[] a, int[] b) {
    int r = Math.max(a.length, b.length);
    int[] o = new int[r];
    for (int d = 0; d < r; d++) {
      int da = d - (r - a.length) >= 0 ? a[d - (r - a.length)] : 1;
      int db = d - (r - b.length) >= 0 ? b[d - (r - b.length)] : 1;
      o[d] = Math.max(da, db);
    }
    return o;
  }

  static int[] codes(Random rnd, int n) {
    int[] v = new int[n];
    for (int i = 0; i < n; i++) v[i] = rnd.nextInt(256) - 128;
    return v;
  }

  static byte[] bytes(int[] v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
    return b;
  }

  /** Runs a binary int8 op on explicit shapes/data and compares with the reference function. */
  static void checkInt8(OpType type, int[] sa, int[] sb, float[] s, int[] z, Activation act, IntBinaryOperator ref, Random rnd) {
    int[] so = outShape(sa, sb);
    Tensor a = tensor("a", DType.INT8, sa, s[0], z[0]);
    Tensor b = tensor("b", DType.INT8, sb, s[1], z[1]);
    Tensor y = tensor("y", DType.INT8, so, s[2], z[2]);
    Op op = op(type, new Options.Elementwise(act), List.of(a, b), y);
    int[] da = codes(rnd, (int) a.elements());
    int[] db = codes(rnd, (int) b.elements());
    byte[] out = EltwiseHarness.compile(op).run(bytes(da), bytes(db));
    int[] expected = EltwiseReference.broadcast(da, sa, db, sb, so, ref);
    assertArrayEquals(bytes(expected), out, type + " " + java.util.Arrays.toString(sa) + " x " + java.util.Arrays.toString(sb));
  }

  /** All 65536 code pairs through a [256,1] x [1,256] broadcast. */
  static void checkGrid(OpType type, float[] s, int[] z, Activation act, IntBinaryOperator ref) {
    Tensor a = tensor("a", DType.INT8, new int[] {256, 1}, s[0], z[0]);
    Tensor b = tensor("b", DType.INT8, new int[] {1, 256}, s[1], z[1]);
    Tensor y = tensor("y", DType.INT8, new int[] {256, 256}, s[2], z[2]);
    byte[] all = new byte[256];
    for (int i = 0; i < 256; i++) all[i] = (byte) (i - 128);
    byte[] out = EltwiseHarness.compile(op(type, new Options.Elementwise(act), List.of(a, b), y)).run(all, all);
    int bad = 0;
    String first = null;
    for (int i = 0; i < 256; i++) {
      for (int j = 0; j < 256; j++) {
        int e = ref.applyAsInt(i - 128, j - 128);
        if (out[i * 256 + j] != e) {
          bad++;
          if (first == null) first = "(" + (i - 128) + ", " + (j - 128) + "): expected " + e + ", got " + out[i * 256 + j];
        }
      }
    }
    assertEquals(0, bad, type + " grid " + java.util.Arrays.toString(s) + " " + java.util.Arrays.toString(z) + " " + act + ": first " + first);
  }

  @Test void int8GridMatchesReference() {
    Random rnd = new Random(1);
    Activation[] acts = Activation.values();
    for (int k = 0; k < 8; k++) {
      float[] s = {(float) Math.pow(10, -3 * rnd.nextDouble()), (float) Math.pow(10, -3 * rnd.nextDouble()), (float) Math.pow(10, -2 + 2.5 * rnd.nextDouble())};
      if (2 * Math.max(s[0], s[1]) / ((1 << 20) * (double) s[2]) >= 1) continue;
      int[] z = {rnd.nextInt(256) - 128, rnd.nextInt(256) - 128, rnd.nextInt(256) - 128};
      Activation act = acts[k % 4];
      checkGrid(OpType.ADD, s, z, act, EltwiseReference.addSub(s[0], z[0], s[1], z[1], s[2], z[2], act, 1));
    }
  }

  @Test void int8BroadcastShapesMatchReference() {
    Random rnd = new Random(2);
    for (int[][] sh : SHAPES) {
      float[] s = {0.05f + rnd.nextFloat(), 0.05f + rnd.nextFloat(), 0.1f + rnd.nextFloat()};
      int[] z = {rnd.nextInt(256) - 128, rnd.nextInt(256) - 128, rnd.nextInt(256) - 128};
      checkInt8(OpType.ADD, sh[0], sh[1], s, z, Activation.RELU6, EltwiseReference.addSub(s[0], z[0], s[1], z[1], s[2], z[2], Activation.RELU6, 1), rnd);
      checkInt8(OpType.ADD, sh[1], sh[0], s, z, Activation.NONE, EltwiseReference.addSub(s[0], z[0], s[1], z[1], s[2], z[2], Activation.NONE, 1), rnd);
    }
  }

  @Test void floatBroadcastWithActivations() {
    Random rnd = new Random(3);
    for (OpType type : new OpType[] {OpType.ADD, OpType.SUB, OpType.MUL}) {
      for (int[][] sh : SHAPES) {
        for (Activation act : new Activation[] {Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1}) {
          int[] so = outShape(sh[0], sh[1]);
          Tensor a = tensor("a", DType.FLOAT32, sh[0]);
          Tensor b = tensor("b", DType.FLOAT32, sh[1]);
          Tensor y = tensor("y", DType.FLOAT32, so);
          float[] fa = new float[(int) a.elements()];
          float[] fb = new float[(int) b.elements()];
          for (int i = 0; i < fa.length; i++) fa[i] = (float) (rnd.nextGaussian() * 4);
          for (int i = 0; i < fb.length; i++) fb[i] = (float) (rnd.nextGaussian() * 4);
          float[] out = toFloats(EltwiseHarness.compile(op(type, new Options.Elementwise(act), List.of(a, b), y)).run(floats(fa), floats(fb)));
          float[] lohi = dev.kiln.compile.FixedPoint.activationRangeFloat(act);
          int[] ia = new int[fa.length];
          int[] ib = new int[fb.length];
          for (int i = 0; i < ia.length; i++) ia[i] = i;
          for (int i = 0; i < ib.length; i++) ib[i] = i;
          int[] pick = EltwiseReference.broadcast(ia, sh[0], ib, sh[1], so, (i, j) -> i * 65536 + j);
          for (int i = 0; i < out.length; i++) {
            float x = fa[pick[i] / 65536];
            float w = fb[pick[i] % 65536];
            float v = type == OpType.ADD ? x + w : type == OpType.SUB ? x - w : x * w;
            v = Math.min(Math.max(v, lohi[0]), lohi[1]);
            assertEquals(v, out[i], 0f, type + " " + act + " element " + i);
          }
        }
      }
    }
  }

  /**
   * The kernel reads a rescale table as base + code * step + int8 residual (ArithmeticEmitter.Split):
   * for input scales from equal to 10^6 apart and every zero point, the split exists and gives every entry back,
   * and so does its negation (SUB's input 2).
   */
  @Test void rescaleTableSplitIsExact() {
    Random rnd = new Random(4);
    for (int k = 0; k < 2000; k++) {
      double ratio = k == 0 ? 0.5 : 0.5 * Math.pow(10, -6 * rnd.nextDouble()); // s_in / (2 max(s1, s2))
      int offset = rnd.nextInt(256) - 128;
      var m = dev.kiln.compile.FixedPoint.quantizeMultiplier(ratio);
      int[] t = ArithmeticEmitter.rescaleTable(offset, m);
      ArithmeticEmitter.Split s = ArithmeticEmitter.Split.of(t);
      assertTrue(s != null, "no int8 split for ratio " + ratio + " offset " + offset);
      ArithmeticEmitter.Split n = s.negated();
      for (int code = -128; code <= 127; code++) {
        assertEquals(t[code + 128], s.base() + code * s.step() + s.residual()[code + 128], "ratio " + ratio + " code " + code);
        assertEquals(-t[code + 128], n.base() + code * n.step() + n.residual()[code + 128], "SUB: ratio " + ratio + " code " + code);
      }
    }
  }

  @Test void sameShapeIsOneFlatLoop() {
    BroadcastPlan p = BroadcastPlan.of(new int[] {2, 3, 4}, new int[] {2, 3, 4}, new int[] {2, 3, 4});
    assertTrue(p.isFlat());
    assertArrayEquals(new int[] {1, 1, 1, 1, 1, 24}, p.shape());
    BroadcastPlan q = BroadcastPlan.of(new int[] {1, 4, 5, 3}, new int[] {3}, new int[] {1, 4, 5, 3});
    assertArrayEquals(new int[] {1, 1, 1, 1, 20, 3}, q.shape());
    assertArrayEquals(new int[] {0, 0, 0, 0, 3, 1}, q.stride1());
    assertArrayEquals(new int[] {0, 0, 0, 0, 0, 1}, q.stride2());
  }

  @Test void checkRejectsUnsupported() {
    var e = EltwiseHarness.emitter(OpType.ADD);
    Tensor a = tensor("a", DType.INT8, new int[] {4}, 0.5f, 0);
    Tensor f = tensor("f", DType.FLOAT32, 4);
    // mixed dtypes
    var ex = assertThrows(UnsupportedOperationException.class,
        () -> e.check(op(OpType.ADD, new Options.Elementwise(Activation.NONE), List.of(a, f), tensor("y", DType.INT8, new int[] {4}, 0.5f, 0))));
    assertTrue(ex.getMessage().contains("int8"), ex.getMessage());
    // output multiplier >= 1: output scale far below the inputs'
    ex = assertThrows(UnsupportedOperationException.class,
        () -> e.check(op(OpType.ADD, new Options.Elementwise(Activation.NONE), List.of(a, a), tensor("y", DType.INT8, new int[] {4}, 1e-7f, 0))));
    assertTrue(ex.getMessage().contains("< 1"), ex.getMessage());
    // incompatible shapes
    assertThrows(UnsupportedOperationException.class, () -> e.check(op(OpType.ADD, new Options.Elementwise(Activation.NONE),
        List.of(a, tensor("b", DType.INT8, new int[] {3}, 0.5f, 0)), tensor("y", DType.INT8, new int[] {4}, 0.5f, 0))));
    // per-channel activation
    Tensor pc = Tensor.builder("pc").dtype(DType.INT8).shape(4).quantization(Quantization.perAxis(new float[] {1, 2, 3, 4}, new long[4], 0)).build();
    assertThrows(UnsupportedOperationException.class,
        () -> e.check(op(OpType.ADD, new Options.Elementwise(Activation.NONE), List.of(a, pc), tensor("y", DType.INT8, new int[] {4}, 0.5f, 0))));
    // fused TANH
    assertThrows(UnsupportedOperationException.class,
        () -> e.check(op(OpType.ADD, new Options.Elementwise(Activation.TANH), List.of(f, f), tensor("y", DType.FLOAT32, 4))));
  }
}
