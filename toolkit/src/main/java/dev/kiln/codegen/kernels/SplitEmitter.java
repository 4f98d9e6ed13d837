package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.Movement;
import dev.kiln.compile.Walk;
import dev.kiln.ir.Op;
import dev.kiln.ir.Tensor;
import java.util.List;

/** SPLIT, SPLIT_V and UNPACK: each output is one block of the input along the axis (axis and sizes are constants). */
final class SplitEmitter implements KernelEmitter {

  @Override public void check(Op op) {
    Tensor in = Movement.data(op);
    if (in == null || op.outputs().isEmpty()) {
      throw ElementwiseKernels.unsupported(op, "expected a data input and at least one output; the model file is malformed");
    }
    for (Tensor out : op.outputs()) MovementKernels.requireSameEncoding(op, in, out);
    List<Walk> walks = MovementKernels.geometry(op, () -> {
      List<Walk> parts = Movement.parts(op);
      for (Walk w : parts) w.requireWithin(in.elements());
      return parts;
    });
    for (Walk w : walks) MovementKernels.walkParams(op, w, in.dtype().byteSize());
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor in = Movement.data(op);
    List<Walk> walks = Movement.parts(op);
    for (int j = 0; j < walks.size(); j++) {
      Walk w = walks.get(j);
      Tensor out = op.outputs().get(j);
      if (out.elements() == 0) continue;
      if (w.isContiguous()) {
        ctx.body().line("memcpy(" + ctx.data(out) + ", " + ctx.data(in) + " + " + w.offset() + ", " + out.byteSize() + ");");
      } else {
        String params = ctx.constant("kiln_walk_params", "part" + j, MovementKernels.walkParams(op, w, in.dtype().byteSize()));
        ctx.body().line("kiln_walk_copy(&" + params + ", " + ctx.data(in) + ", " + ctx.data(out) + ");");
      }
    }
  }
}
