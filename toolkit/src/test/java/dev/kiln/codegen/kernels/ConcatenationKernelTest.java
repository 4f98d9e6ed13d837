package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.EltwiseHarness.op;
import static dev.kiln.codegen.kernels.EltwiseHarness.tensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ConcatenationKernelTest {

  /** Concatenates random int32 tensors (the copy is dtype-agnostic) and compares with an index-wise copy. */
  @Test void copiesAlongEveryAxis() {
    Random rnd = new Random(71);
    int[] base = {2, 3, 4, 5};
    for (int axis = -4; axis < 4; axis++) {
      int ax = axis < 0 ? axis + 4 : axis;
      List<Tensor> ins = new ArrayList<>();
      List<byte[]> data = new ArrayList<>();
      int total = 0;
      int[] sizes = {1, 3, 0, 2};
      for (int i = 0; i < sizes.length; i++) {
        int[] s = base.clone();
        s[ax] = sizes[i];
        total += sizes[i];
        Tensor t = tensor("in" + i, DType.INT32, s);
        ins.add(t);
        byte[] b = new byte[t.byteSize()];
        rnd.nextBytes(b);
        data.add(b);
      }
      int[] so = base.clone();
      so[ax] = total;
      Tensor out = tensor("y", DType.INT32, so);
      Op op = op(OpType.CONCATENATION, new Options.Concat(axis, Activation.NONE), ins, out);
      byte[] got = EltwiseHarness.compile(op).run(data.toArray(new byte[0][]));
      // expected: for each outer index, the inputs' slices in order
      int outer = 1;
      for (int d = 0; d < ax; d++) outer *= base[d];
      int inner = 4;
      for (int d = ax + 1; d < 4; d++) inner *= base[d];
      ByteArrayOutputStream exp = new ByteArrayOutputStream();
      for (int o = 0; o < outer; o++) {
        for (int i = 0; i < sizes.length; i++) exp.write(data.get(i), o * sizes[i] * inner, sizes[i] * inner);
      }
      assertArrayEquals(exp.toByteArray(), got, "axis " + axis);
    }
  }

  @Test void rejectsMismatchedQuantizationAndActivation() {
    var e = EltwiseHarness.emitter(OpType.CONCATENATION);
    Tensor a = tensor("a", DType.INT8, new int[] {1, 2}, 0.1f, 0);
    Tensor b = tensor("b", DType.INT8, new int[] {1, 2}, 0.2f, 0);
    Tensor y = tensor("y", DType.INT8, new int[] {1, 4}, 0.1f, 0);
    var ex = assertThrows(UnsupportedOperationException.class, () -> e.check(op(OpType.CONCATENATION, new Options.Concat(1, Activation.NONE), List.of(a, b), y)));
    assertTrue(ex.getMessage().contains("QUANTIZE"), ex.getMessage());
    assertThrows(UnsupportedOperationException.class, () -> e.check(op(OpType.CONCATENATION, new Options.Concat(1, Activation.RELU), List.of(a, a), y)));
    assertThrows(UnsupportedOperationException.class, () -> e.check(op(OpType.CONCATENATION, new Options.Concat(0, Activation.NONE), List.of(a, a), y)));
  }
}
