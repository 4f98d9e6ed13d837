package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.Activation;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Shape;
import dev.kiln.ir.Tensor;

/**
 * CONCATENATION along one axis: a strided byte copy per input, for any dtype. Quantized inputs must
 * carry exactly the output's scale and zero point (TFLite rejects anything else for int8; Kiln does
 * the same for every quantized type rather than rescale), and the fused activation must be NONE.
 */
final class ConcatEmitter implements KernelEmitter {

  @Override public void check(Op op) {
    if (op.inputs().isEmpty() || op.inputs().stream().anyMatch(t -> t == null) || op.outputs().size() != 1) {
      throw unsupported(op, "expected at least one input and 1 output; the model file is malformed");
    }
    Options.Concat o = op.options(Options.Concat.class);
    if (o.activation() != Activation.NONE) {
      throw unsupported(op, "fused activation " + o.activation() + " is not supported on CONCATENATION (TFLite rejects it too)");
    }
    Tensor out = op.output();
    int axis = axis(op);
    ElementwiseKernels.count(op, out);
    long along = 0;
    for (int i = 0; i < op.inputs().size(); i++) {
      Tensor t = op.input(i);
      if (t.dtype() != out.dtype()) {
        throw unsupported(op, "input " + (i + 1) + " '" + t.name() + "' is " + t.dtype() + " but the output is " + out.dtype());
      }
      if (t.rank() != out.rank()) {
        throw unsupported(op, "input " + (i + 1) + " '" + t.name() + "' has shape " + Shape.toString(t.shape())
            + ", whose rank differs from the output " + Shape.toString(out.shape()));
      }
      for (int d = 0; d < out.rank(); d++) {
        if (d != axis && t.dim(d) != out.dim(d)) {
          throw unsupported(op, "input " + (i + 1) + " '" + t.name() + "' has shape " + Shape.toString(t.shape())
              + ", which does not match the output " + Shape.toString(out.shape()) + " outside axis " + axis);
        }
      }
      along += t.dim(axis);
      if (!t.quantization().equals(out.quantization())) {
        throw unsupported(op, "input " + (i + 1) + " '" + t.name() + "' has quantization " + t.quantization()
            + " but the output has " + out.quantization() + "; TFLite requires them equal (it does not rescale in "
            + "CONCATENATION): requantize that input with a QUANTIZE op or let the converter unify the scales");
      }
    }
    if (along != out.dim(axis)) {
      throw unsupported(op, "the inputs add up to " + along + " along axis " + axis + " but the output has " + out.dim(axis));
    }
  }

  private static int axis(Op op) {
    int axis = op.options(Options.Concat.class).axis();
    int rank = op.output().rank();
    int a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      throw unsupported(op, "axis " + axis + " is out of range for rank " + rank);
    }
    return a;
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor out = op.output();
    int axis = axis(op);
    int esize = out.dtype().byteSize();
    long outer = 1;
    for (int d = 0; d < axis; d++) outer *= out.dim(d);
    long inner = esize;
    for (int d = axis + 1; d < out.rank(); d++) inner *= out.dim(d);
    long dstStride = inner * out.dim(axis);
    long offset = 0;
    for (Tensor t : op.inputs()) {
      long part = inner * t.dim(axis);
      if (part > 0 && outer > 0) {
        ctx.body().line("kiln_copy_rows(" + ctx.data(t) + ", " + ctx.data(out) + ", " + outer + ", " + part + ", "
            + dstStride + ", " + offset + ");");
      }
      offset += part;
    }
  }
}
