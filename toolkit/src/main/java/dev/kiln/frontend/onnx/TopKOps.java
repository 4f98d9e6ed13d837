package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;

/**
 * TopK with a constant k (onnx-ops2) on existing kernels, one selection round per output: ARG_MAX (ARG_MIN for
 * largest=0) picks the first index of the extreme, a GATHER over the flat input reads its value, and an EQUAL
 * against the axis' positions with a SELECT_V2 puts -FLT_MAX (+FLT_MAX) there for the next round; the k values
 * and indices are joined by CONCATENATION. Ties go to the lower index, as ONNX asks. Inputs holding infinities,
 * NaN or +-FLT_MAX themselves can tie with a masked position (then an index could repeat); finite data cannot.
 */
final class TopKOps {
  private TopKOps() {}

  /** Rounds beyond this would make a long op list; a sort kernel is the way for them. */
  static final int MAX_K = 64;

  static void topK(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.floatValue(l.input(n, 0, "X"));
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold TopK");
    if (x.dtype != DType.FLOAT32) throw l.error(n, "sorts the " + x.dtype + " tensor '" + x.name + "'; Kiln compiles TopK on float32 (its rounds use"
          + " ARG_MAX/ARG_MIN, which take no int64)");
    Attrs a = l.attrs(n);
    long kk;
    if (l.opset < 10) {
      kk = a.i("k", -1);
    } else {
      Value kin = l.input(n, 1, "K");
      if (!kin.isConstant()) {
        throw l.error(n, "its K (input 1, '" + kin.name + "') is computed at run time, so the output shape would be too; Kiln needs K"
            + " to be a constant (an initializer or a Constant node)");
      }
      long[] kv = kin.constant.longs();
      if (kv.length != 1) throw l.error(n, "has K of " + kv.length + " values; it must hold one");
      kk = kv[0];
    }
    int r = x.rank();
    if (r == 0) throw l.error(n, "has a scalar input; TopK needs at least one dimension");
    int axis = a.int32("axis", -1);
    if (axis < -r || axis >= r) throw l.error(n, "axis " + axis + " is out of range for rank " + r);
    if (axis < 0) axis += r;
    int size = x.shape[axis];
    if (kk < 1 || kk > size) throw l.error(n, "has k = " + kk + " for an axis of " + size + " values; Kiln compiles 1 <= k <= size");
    if (kk > MAX_K) throw l.error(n, "has k = " + kk + "; Kiln unrolls TopK into one selection round per output, up to k = " + MAX_K);
    int k = (int) kk;
    boolean largest = a.i("largest", 1) != 0;
    String nameV = GraphLowering.output(n, 0);
    String nameI = GraphLowering.output(n, 1);
    String base0 = nameV != null ? nameV : nameI != null ? nameI : "topk" + n.index();
    TensorRef in = l.layout(x, null);
    Value xl = Value.tensor(in.name(), in, x.shape);
    int[] kept = x.shape.clone();
    kept[axis] = 1;
    long[] stride = new long[r];
    long s = 1;
    for (int d = r - 1; d >= 0; d--) {
      stride[d] = s;
      s *= x.shape[d];
    }
    int total = (int) s;
    int count = (int) dev.kiln.ir.Shape.elements(kept);
    long[] offsets = new long[count];
    int[] pos = new int[r];
    for (int i = 0; i < count; i++) {
      long b = 0;
      for (int d = 0; d < r; d++) b += pos[d] * stride[d];
      offsets[i] = b;
      for (int d = r - 1; d >= 0; d--) {
        if (++pos[d] < kept[d]) break;
        pos[d] = 0;
      }
    }
    Value offset = Value.constant(base0 + "/offsets", Constant.ofLongs(kept, DType.INT64, offsets));
    Value step = Value.constant(base0 + "/stride", Constant.ofLongs(new int[0], DType.INT64, new long[] {stride[axis]}));
    int[] iotaShape = new int[r];
    java.util.Arrays.fill(iotaShape, 1);
    iotaShape[axis] = size;
    long[] iv = new long[size];
    for (int i = 0; i < size; i++) iv[i] = i;
    Value iota = Value.constant(base0 + "/positions", Constant.ofLongs(iotaShape, DType.INT64, iv));
    Value fill = Value.constant(base0 + "/taken", Constant.ofFloats(new int[0], new float[] {largest ? -Float.MAX_VALUE : Float.MAX_VALUE}));
    TensorRef flat = l.layout(xl.reshaped(base0 + "/elements", new int[] {total}), null);
    TensorRef[] values = new TensorRef[k];
    TensorRef[] indices = new TensorRef[k];
    Value cur = xl;
    for (int i = 0; i < k; i++) {
      TensorRef src = l.layout(cur, null);
      TensorRef ix = l.newTensor(base0 + "/index" + i, false, kept, DType.INT64, Quantization.NONE);
      l.op(largest ? OpType.ARG_MAX : OpType.ARG_MIN, new Options.ArgMinMax(axis), ix, src);
      indices[i] = ix;
      Value iv2 = Value.tensor(ix.name(), ix, kept);
      Value scaled = stride[axis] == 1 ? iv2
          : EltwiseOps.emit(l, n, OpType.MUL, new Options.Elementwise(Activation.NONE), DType.INT64, base0 + "/scaled" + i, false, iv2, step);
      Value at = EltwiseOps.emit(l, n, OpType.ADD, new Options.Elementwise(Activation.NONE), DType.INT64, base0 + "/at" + i, false, scaled, offset);
      TensorRef vi = l.newTensor(base0 + "/value" + i, false, kept, DType.FLOAT32, Quantization.NONE);
      l.op(OpType.GATHER, new Options.Gather(0, 0), vi, flat, l.layout(at, null));
      values[i] = vi;
      if (i + 1 < k) {
        Value hit = EltwiseOps.emit(l, n, OpType.EQUAL, new Options.None(), DType.BOOL, base0 + "/hit" + i, false, iv2, iota);
        cur = EltwiseOps.emit(l, n, OpType.SELECT_V2, new Options.None(), DType.FLOAT32, base0 + "/rest" + i, false, hit, fill, cur);
      }
    }
    int[] shape = x.shape.clone();
    shape[axis] = k;
    if (nameV != null) l.define(n, nameV, join(l, nameV, values, shape, DType.FLOAT32, axis));
    if (nameI != null) l.define(n, nameI, join(l, nameI, indices, shape, DType.INT64, axis));
  }

  private static Value join(GraphLowering l, String name, TensorRef[] parts, int[] shape, DType dtype, int axis) {
    if (parts.length == 1) return Value.tensor(parts[0].name(), parts[0], shape).renamed(name);
    TensorRef t = l.newTensor(name, true, shape, dtype, Quantization.NONE);
    l.op(OpType.CONCATENATION, new Options.Concat(axis, Activation.NONE), t, parts);
    return Value.tensor(name, t, shape);
  }
}
