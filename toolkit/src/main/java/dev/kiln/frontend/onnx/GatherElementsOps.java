package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;

/**
 * GatherElements (onnx-ops2) as a GATHER on the data's elements in logical order: output element {@code i} reads
 * flat position {@code base[i] + idx[i] * stride[axis]}, where {@code base[i]} is i's offset along every other axis
 * (a constant) and idx is wrapped into {@code 0..size-1}. Constant indices give a constant position table; run-time
 * ones are wrapped and scaled by LESS, ADD, SELECT_V2, MUL and ADD (the integer kernels) before the GATHER.
 */
final class GatherElementsOps {
  private GatherElementsOps() {}

  static void gatherElements(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value data = l.floatValue(l.input(n, 0, "data"));
    Value idx = l.input(n, 1, "indices");
    int r = data.rank();
    if (r == 0) throw l.error(n, "gathers from a scalar; data needs at least one dimension");
    if (idx.rank() != r) {
      throw l.error(n, "has indices of rank " + idx.rank() + " for data of rank " + r + "; GatherElements needs equal ranks");
    }
    if (idx.dtype != DType.INT64 && idx.dtype != DType.INT32) {
      throw l.error(n, "has " + idx.dtype + " indices; ONNX GatherElements takes int32 or int64");
    }
    int axis = l.attrs(n).int32("axis", 0);
    if (axis < -r || axis >= r) throw l.error(n, "axis " + axis + " is out of range for rank " + r);
    if (axis < 0) axis += r;
    for (int d = 0; d < r; d++) {
      if (d != axis && idx.shape[d] > data.shape[d]) {
        throw l.error(n, "has indices " + GraphLowering.shape(idx.shape) + " larger than the data " + GraphLowering.shape(data.shape)
            + " on axis " + d + " (only the gathered axis " + axis + " may differ)");
      }
    }
    int size = data.shape[axis];
    long[] stride = new long[r];
    long s = 1;
    for (int d = r - 1; d >= 0; d--) {
      stride[d] = s;
      s *= data.shape[d];
    }
    long total = s;
    int count = (int) dev.kiln.ir.Shape.elements(idx.shape);
    long[] base = new long[count];
    int[] pos = new int[r];
    for (int i = 0; i < count; i++) {
      long b = 0;
      for (int d = 0; d < r; d++) if (d != axis) b += pos[d] * stride[d];
      base[i] = b;
      for (int d = r - 1; d >= 0; d--) {
        if (++pos[d] < idx.shape[d]) break;
        pos[d] = 0;
      }
    }
    String out = GraphLowering.output(n, 0);
    DType flatType = total > Integer.MAX_VALUE ? DType.INT64 : DType.INT32;
    Value flat;
    if (idx.isConstant()) {
      long[] v = idx.constant.longs();
      long[] f = new long[count];
      for (int i = 0; i < count; i++) {
        if (v[i] < -size || v[i] >= size) throw l.error(n, "has index " + v[i] + " outside the axis of size " + size);
        f[i] = base[i] + (v[i] < 0 ? v[i] + size : v[i]) * stride[axis];
      }
      if (data.isConstant()) {
        // both known: the result is a constant
        int e = data.dtype.byteSize();
        byte[] src = data.constant.bytes();
        byte[] dst = new byte[count * e];
        for (int i = 0; i < count; i++) System.arraycopy(src, (int) f[i] * e, dst, i * e, e);
        l.define(n, out, Value.constant(out, new Constant(idx.shape.clone(), data.dtype, dst)));
        return;
      }
      flat = Value.constant(out + "/positions", Constant.ofLongs(idx.shape.clone(), flatType, f));
    } else {
      DType t = idx.dtype;
      Value zero = Value.constant(out + "/zero", Constant.ofLongs(new int[0], t, new long[] {0}));
      Value sz = Value.constant(out + "/size", Constant.ofLongs(new int[0], t, new long[] {size}));
      Value neg = EltwiseOps.emit(l, n, OpType.LESS, new Options.None(), DType.BOOL, out + "/negative", false, idx, zero);
      Value up = EltwiseOps.emit(l, n, OpType.ADD, new Options.Elementwise(Activation.NONE), t, out + "/wrapped", false, idx, sz);
      flat = EltwiseOps.emit(l, n, OpType.SELECT_V2, new Options.None(), t, out + "/indices", false, neg, up, idx);
      if (stride[axis] != 1) {
        Value st = Value.constant(out + "/stride", Constant.ofLongs(new int[0], t, new long[] {stride[axis]}));
        flat = EltwiseOps.emit(l, n, OpType.MUL, new Options.Elementwise(Activation.NONE), t, out + "/scaled", false, flat, st);
      }
      boolean offsets = false;
      for (long b : base) offsets |= b != 0;
      if (offsets) {
        Value bv = Value.constant(out + "/base", Constant.ofLongs(idx.shape.clone(), t, base));
        flat = EltwiseOps.emit(l, n, OpType.ADD, new Options.Elementwise(Activation.NONE), t, out + "/positions", false, flat, bv);
      }
    }
    TensorRef td = l.layout(data.reshaped(data.name + "/elements", new int[] {(int) total}), null);
    TensorRef ti = l.layout(flat, null);
    TensorRef o = l.newTensor(out, true, idx.shape.clone(), td.dtype(), td.quantization());
    l.op(OpType.GATHER, new Options.Gather(0, 0), o, td, ti);
    l.define(n, out, Value.tensor(out, o, idx.shape.clone()));
  }
}
