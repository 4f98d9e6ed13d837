package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.requireArity;
import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;
import static dev.kiln.codegen.kernels.MathKernels.requireSameDType;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Shape;
import dev.kiln.ir.Tensor;
import java.util.Arrays;

/**
 * SELECT_V2 {@code cond ? x : y} with numpy broadcasting of all three inputs (up to 6 dimensions),
 * any element type: the values are copied as bytes, so int8 keeps its codes (TFLite requires x, y
 * and the output to share one quantization, and copies codes too).
 */
final class SelectEmitter implements KernelEmitter {
  private static final int RANK = BroadcastPlan.RANK;

  @Override public void check(Op op) {
    requireArity(op, 3);
    Tensor cond = op.input(0);
    Tensor x = op.input(1);
    Tensor y = op.input(2);
    Tensor out = op.output();
    if (cond.dtype() != DType.BOOL) {
      throw unsupported(op, "condition '" + cond.name() + "' is " + cond.dtype() + "; SELECT_V2 needs a bool condition");
    }
    requireSameDType(op, x, y, "input x", "input y");
    requireSameDType(op, x, out, "input x", "output");
    boolean quantized = x.quantization().isQuantized() || y.quantization().isQuantized() || out.quantization().isQuantized();
    if (quantized && !(x.quantization().equals(out.quantization()) && y.quantization().equals(out.quantization()))) {
      throw unsupported(op, x.dtype() + " inputs and output have different quantization (" + x.quantization() + ", "
          + y.quantization() + " -> " + out.quantization() + "); SELECT_V2 copies codes, so all three must be equal");
    }
    ElementwiseKernels.count(op, out);
    strides(op, cond, out);
    strides(op, x, out);
    strides(op, y, out);
  }

  /** Element steps of {@code t} over the output's dimensions padded to rank 6 (0 where broadcast). */
  private static int[] strides(Op op, Tensor t, Tensor out) {
    int[] o = out.shape();
    int[] s = t.shape();
    if (o.length > RANK || s.length > o.length) {
      throw unsupported(op, "shapes " + Shape.toString(s) + " -> " + Shape.toString(o) + " need more than " + RANK
          + " dimensions or do not broadcast");
    }
    int[] strides = new int[RANK];
    long step = 1;
    for (int k = 1; k <= o.length; k++) {
      int od = o[o.length - k];
      int sd = k <= s.length ? s[s.length - k] : 1;
      if (sd != od && sd != 1) {
        throw unsupported(op, "input '" + t.name() + "' of shape " + Shape.toString(s) + " does not broadcast to the output shape "
            + Shape.toString(o));
      }
      strides[RANK - k] = sd == 1 ? 0 : Math.toIntExact(step);
      step *= sd;
    }
    return strides;
  }

  private static String list(int[] v) {
    return Arrays.toString(v).replace('[', '{').replace(']', '}');
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor cond = op.input(0);
    Tensor x = op.input(1);
    Tensor y = op.input(2);
    Tensor out = op.output();
    int[] o = out.shape();
    int[] shape = new int[RANK];
    Arrays.fill(shape, 1);
    System.arraycopy(o, 0, shape, RANK - o.length, o.length);
    String p = ctx.constant("kiln_select_params", "select" + op.index(), ElementwiseKernels.initializer(
        ".shape = " + list(shape), ".stride_cond = " + list(strides(op, cond, out)),
        ".stride1 = " + list(strides(op, x, out)), ".stride2 = " + list(strides(op, y, out)),
        ".element_bytes = " + out.dtype().byteSize()));
    ctx.body().line("kiln_select(&" + p + ", " + ctx.data(cond) + ", " + ctx.data(x) + ", " + ctx.data(y) + ", "
        + ctx.data(out) + ");");
  }
}
