package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The ONNX family (onnx-more): operators ONNX exporters emit that no TFLite kernel computes; their C
 * is {@code kiln_onnx.c}. ERF (float32): the C library's {@code erff}, as onnxruntime's Erf is
 * (to within the float tolerance) on every platform.
 */
final class OnnxKernels {
  static final List<String> SOURCES = List.of("kiln_onnx.h", "kiln_onnx.c");

  private OnnxKernels() {}

  static void register(Map<OpType, KernelEmitter> emitters) {
    emitters.put(OpType.ERF, new ErfEmitter());
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
