package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The ONNX family (onnx-more): operators ONNX exporters emit that no TFLite kernel computes; their C
 * is {@code kiln_onnx.c}. ERF (float32): the C library's {@code erff}, as onnxruntime's Erf is
 * (to within the float tolerance) on every platform. TOPK (float32, int8, uint8, int16, int32, int64): a
 * selection by insertion into the outputs themselves, no scratch.
 */
final class OnnxKernels {
  static final List<String> SOURCES = List.of("kiln_onnx.h", "kiln_onnx.c");

  private OnnxKernels() {}

  static void register(Map<OpType, KernelEmitter> emitters) {
    emitters.put(OpType.ERF, new ErfEmitter());
    emitters.put(OpType.TOPK, new TopKEmitter());
  }

  /** TOPK: input 0, outputs values (the input's type) and int64 indices, both the input's shape with k on the axis. */
  static final class TopKEmitter implements KernelEmitter {
    private static final Map<DType, String> SUFFIX = Map.of(DType.FLOAT32, "f32", DType.INT8, "s8", DType.UINT8, "u8",
        DType.INT16, "s16", DType.INT32, "s32", DType.INT64, "s64");

    @Override public void check(Op op) {
      if (op.inputs().size() != 1 || op.input(0) == null || op.outputs().size() != 2) {
        throw ElementwiseKernels.unsupported(op, "expected 1 input and 2 outputs (values, indices); the model file is malformed");
      }
      Options.TopK o = op.options(Options.TopK.class);
      Tensor in = op.input(0);
      Tensor values = op.outputs().get(0);
      Tensor indices = op.outputs().get(1);
      if (!SUFFIX.containsKey(in.dtype()) || values.dtype() != in.dtype() || indices.dtype() != DType.INT64) {
        throw ElementwiseKernels.unsupported(op, "computes " + in.dtype() + " -> " + values.dtype() + ", " + indices.dtype()
            + "; Kiln's TOPK takes float32, int8, uint8, int16, int32 or int64 values and gives int64 indices");
      }
      if (o.axis() < 0 || o.axis() >= in.rank()) {
        throw ElementwiseKernels.unsupported(op, "axis " + o.axis() + " is outside the input's rank " + in.rank());
      }
      int k = values.rank() == in.rank() ? values.dim(o.axis()) : -1;
      for (int d = 0; d < in.rank() && k >= 1; d++) {
        if (d != o.axis() && values.dim(d) != in.dim(d)) k = -1;
      }
      if (k < 1 || k > in.dim(o.axis()) || !Arrays.equals(values.shape(), indices.shape())) {
        throw ElementwiseKernels.unsupported(op, "the outputs " + Arrays.toString(values.shape()) + " and " + Arrays.toString(indices.shape())
            + " are not the input " + Arrays.toString(in.shape()) + " with 1 <= k <= " + in.dim(o.axis()) + " on axis " + o.axis());
      }
    }

    @Override public void emit(Op op, KernelContext ctx) {
      check(op);
      Options.TopK o = op.options(Options.TopK.class);
      Tensor in = op.input(0);
      Tensor values = op.outputs().get(0);
      long outer = 1;
      long inner = 1;
      for (int d = 0; d < o.axis(); d++) outer *= in.dim(d);
      for (int d = o.axis() + 1; d < in.rank(); d++) inner *= in.dim(d);
      ctx.body().line("kiln_topk_" + SUFFIX.get(in.dtype()) + "(" + ctx.data(in) + ", " + ctx.data(values) + ", "
          + ctx.data(op.outputs().get(1)) + ", " + outer + ", " + in.dim(o.axis()) + ", " + inner + ", " + values.dim(o.axis()) + ", "
          + (o.largest() ? 1 : 0) + ");");
    }
  }

  /** ERF: one float32 input, one output of the same shape. */
  static final class ErfEmitter implements KernelEmitter {
    @Override public void check(Op op) {
      if (op.inputs().size() != 1 || op.input(0) == null || op.outputs().size() != 1) {
        throw ElementwiseKernels.unsupported(op, "expected 1 input and 1 output; the model file is malformed");
      }
      Tensor in = op.input(0);
      Tensor out = op.output();
      if (in.dtype() != DType.FLOAT32 || out.dtype() != DType.FLOAT32) {
        throw ElementwiseKernels.unsupported(op, "computes on " + in.dtype() + " -> " + out.dtype() + "; Kiln's ERF is float32");
      }
      if (!Arrays.equals(in.shape(), out.shape())) {
        throw ElementwiseKernels.unsupported(op, "the output shape " + Arrays.toString(out.shape()) + " is not the input's "
            + Arrays.toString(in.shape()));
      }
      ElementwiseKernels.count(op, in);
    }

    @Override public void emit(Op op, KernelContext ctx) {
      check(op);
      ctx.body().line("kiln_erf_f32(" + ctx.data(op.input(0)) + ", " + ctx.data(op.output()) + ", "
          + ElementwiseKernels.count(op, op.input(0)) + ");");
    }
  }
}
