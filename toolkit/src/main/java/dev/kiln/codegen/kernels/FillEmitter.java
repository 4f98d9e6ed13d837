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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * FILL: the output (shape given by the constant dims input, checked against the model's output
 * shape) filled with the scalar value input, copied as bytes (int8 keeps its code: TFLite requires
 * value and output to share the quantization). Run-time dims would make the output size dynamic,
 * which a static memory plan cannot hold, so they are refused.
 */
final class FillEmitter implements KernelEmitter {
  @Override public void check(Op op) {
    requireArity(op, 2);
    Tensor dims = op.input(0);
    Tensor value = op.input(1);
    Tensor out = op.output();
    if (!dims.isConstant()) {
      throw unsupported(op, "reads its dims from the run-time tensor '" + dims.name() + "'; Kiln needs constant dims "
          + "(a static output size), so compute the shape at conversion time");
    }
    if (dims.dtype() != DType.INT32 && dims.dtype() != DType.INT64 || dims.rank() > 1) {
      throw unsupported(op, "dims '" + dims.name() + "' is " + dims.dtype() + " " + Shape.toString(dims.shape())
          + "; expected an int32 or int64 vector");
    }
    ByteBuffer b = ByteBuffer.wrap(dims.data()).order(ByteOrder.LITTLE_ENDIAN);
    int n = (int) dims.elements();
    int[] shape = new int[n];
    for (int i = 0; i < n; i++) shape[i] = (int) (dims.dtype() == DType.INT64 ? b.getLong(i * 8) : b.getInt(i * 4));
    if (!java.util.Arrays.equals(shape, out.shape())) {
      throw unsupported(op, "dims " + Shape.toString(shape) + " differ from the output shape " + Shape.toString(out.shape())
          + "; the model file is inconsistent");
    }
    if (value.elements() != 1) {
      throw unsupported(op, "value '" + value.name() + "' has " + value.elements() + " elements; FILL needs a scalar");
    }
    requireSameDType(op, value, out, "value", "output");
    if (value.dtype() == DType.INT8 && !value.quantization().equals(out.quantization())) {
      throw unsupported(op, "int8 value and output have different quantization (" + value.quantization() + " -> "
          + out.quantization() + "); FILL copies the code, so both must be equal");
    }
    ElementwiseKernels.count(op, out);
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor out = op.output();
    ctx.body().line("kiln_fill_bytes(" + ctx.data(op.input(1)) + ", " + ctx.data(out) + ", "
        + ElementwiseKernels.count(op, out) + ", " + out.dtype().byteSize() + ");");
  }
}
