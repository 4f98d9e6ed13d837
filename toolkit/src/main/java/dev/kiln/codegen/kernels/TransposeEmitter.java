package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.requireArity;
import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Shape;
import dev.kiln.ir.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * TRANSPOSE: output axis {@code i} is input axis {@code perm[i]}, for every dtype (bytes are moved,
 * quantization must be equal on both sides). Prepare drops axes of size 1 and merges output axes
 * that are neighbours in the input too, so NCHW -> NHWC of [1, 3, 32, 32] is a [3, 1024] -> [1024, 3]
 * walk; the kernel gets at most 6 axes.
 */
final class TransposeEmitter implements KernelEmitter {
  static final int RANK = 6;

  /** The walk: output shape and input element steps per output axis, padded to {@link #RANK} with leading 1s. */
  record Plan(int[] shape, int[] inStride) {
    /** True if the permutation keeps the element order (only size-1 axes move): a copy. */
    boolean isCopy() { return inStride[RANK - 1] == 1 && Arrays.stream(shape).limit(RANK - 1).allMatch(d -> d == 1); }
  }

  /** Plans {@code transpose(x, perm)} for an input of shape {@code in}; throws IllegalArgumentException if perm is not a permutation or needs more than 6 axes. */
  static Plan plan(int[] in, int[] perm) {
    int r = in.length;
    if (perm.length != r) {
      throw new IllegalArgumentException("perm " + Arrays.toString(perm) + " has " + perm.length + " entries for an input of rank " + r);
    }
    boolean[] seen = new boolean[r];
    for (int p : perm) {
      if (p < 0 || p >= r || seen[p]) throw new IllegalArgumentException("perm " + Arrays.toString(perm) + " is not a permutation of 0.." + (r - 1));
      seen[p] = true;
    }
    long[] stride = new long[r];
    long s = 1;
    for (int d = r - 1; d >= 0; d--) {
      stride[d] = s;
      s *= in[d];
    }
    List<long[]> dims = new ArrayList<>(); // {size, input stride}, outermost first
    for (int i = 0; i < r; i++) {
      int size = in[perm[i]];
      if (size == 1) continue;
      long st = stride[perm[i]];
      long[] last = dims.isEmpty() ? null : dims.get(dims.size() - 1);
      if (last != null && last[1] == st * size) {
        last[0] *= size;
        last[1] = st;
      } else {
        dims.add(new long[] {size, st});
      }
    }
    if (dims.size() > RANK) {
      throw new IllegalArgumentException("the permutation " + Arrays.toString(perm) + " of " + Shape.toString(in)
          + " needs " + dims.size() + " axes after merging; Kiln's kernel handles at most " + RANK);
    }
    int[] shape = new int[RANK];
    int[] inStride = new int[RANK];
    Arrays.fill(shape, 1);
    Arrays.fill(inStride, 1);
    int off = RANK - dims.size();
    for (int j = 0; j < dims.size(); j++) {
      shape[off + j] = Math.toIntExact(dims.get(j)[0]);
      inStride[off + j] = Math.toIntExact(dims.get(j)[1]);
    }
    return new Plan(shape, inStride);
  }

  /** The shape of {@code transpose(x, perm)}. */
  static int[] permuted(int[] in, int[] perm) {
    int[] out = new int[perm.length];
    for (int i = 0; i < perm.length; i++) out[i] = in[perm[i]];
    return out;
  }

  @Override public void check(Op op) {
    // ONNX Transpose has one input; TFLite's TRANSPOSE keeps its constant perm (already in the options) as input 1.
    requireArity(op, op.inputs().size() == 2 && op.input(1) != null && op.input(1).isConstant() ? 2 : 1);
    Tensor in = op.input(0);
    Tensor out = op.output();
    int[] perm = op.options(Options.Transpose.class).perm();
    try {
      plan(in.shape(), perm);
    } catch (IllegalArgumentException e) {
      throw unsupported(op, e.getMessage());
    }
    if (!Arrays.equals(permuted(in.shape(), perm), out.shape())) {
      throw unsupported(op, "the output shape " + Shape.toString(out.shape()) + " is not the input " + Shape.toString(in.shape())
          + " permuted by " + Arrays.toString(perm) + " (" + Shape.toString(permuted(in.shape(), perm)) + ")");
    }
    if (in.dtype() != out.dtype()) {
      throw unsupported(op, "the input is " + in.dtype() + " and the output " + out.dtype() + "; TRANSPOSE moves elements, it does not convert them");
    }
    if (!in.quantization().equals(out.quantization())) {
      throw unsupported(op, "the input has quantization " + in.quantization() + " and the output " + out.quantization()
          + "; TRANSPOSE does not requantize");
    }
    ElementwiseKernels.count(op, in);
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor in = op.input(0);
    Tensor out = op.output();
    if (in.elements() == 0) {
      ctx.body().comment("TRANSPOSE op #" + op.index() + ": empty tensor, nothing to do");
      return;
    }
    Plan p = plan(in.shape(), op.options(Options.Transpose.class).perm());
    if (p.isCopy()) {
      ctx.body().line("memcpy(" + ctx.data(out) + ", " + ctx.data(in) + ", " + in.byteSize() + ");");
      return;
    }
    String params = ctx.constant("kiln_transpose_params", "transpose", ElementwiseKernels.initializer(
        ".shape = " + list(p.shape()), ".in_stride = " + list(p.inStride()), ".element_bytes = " + in.dtype().byteSize()));
    ctx.body().line("kiln_transpose(&" + params + ", " + ctx.data(in) + ", " + ctx.data(out) + ");");
  }

  private static String list(int[] v) {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ", ").append(v[i]);
    return sb.append('}').toString();
  }
}
