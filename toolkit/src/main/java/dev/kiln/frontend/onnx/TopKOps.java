package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;

/**
 * TopK with a constant k (onnx-ops2) as Kiln's TOPK kernel ({@code kiln_onnx.c}) on the physical axis the logical one
 * lives on (an NHWC tensor is not transposed): values and int64 indices, best first, ties to the lower index as ONNX
 * asks, on float32, int8, uint8, int16, int32 and int64 data. The outputs' shape depends on k, so a K computed at
 * run time is refused.
 */
final class TopKOps {
  private TopKOps() {}

  private static final java.util.Set<DType> TYPES = java.util.Set.of(DType.FLOAT32, DType.INT8, DType.UINT8, DType.INT16, DType.INT32,
      DType.INT64);

  static void topK(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.floatValue(l.input(n, 0, "X"));
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold TopK");
    if (!TYPES.contains(x.dtype)) {
      throw l.error(n, "sorts the " + x.dtype + " tensor '" + x.name + "'; Kiln compiles TopK on float32, int8, uint8, int16, int32 and int64");
    }
    Attrs a = l.attrs(n);
    long kk;
    if (l.opset < 10) {
      kk = a.i("k", -1);
    } else {
      Value kin = l.input(n, 1, "K");
      if (!kin.isConstant()) {
        throw l.error(n, "its K (input 1, '" + kin.name + "') is computed at run time, so the output shape would be too; Kiln needs K"
            + " to be a constant (an initializer or a Constant node)" + l.constantHint(kin));
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
    int k = (int) kk;
    boolean largest = a.i("largest", 1) != 0;
    String nameV = GraphLowering.output(n, 0);
    String nameI = GraphLowering.output(n, 1);
    String base = nameV != null ? nameV : nameI != null ? nameI : "topk" + n.index();
    GraphLowering.Stored stored = l.stored(x);
    TensorRef in = stored.tensor();
    int[] perm = stored.perm();
    int p = perm == null ? axis : perm[axis];
    int[] physOut = in.shape().clone();
    physOut[p] = k;
    int[] shape = x.shape.clone();
    shape[axis] = k;
    TensorRef tv = l.newTensor(nameV != null ? nameV : base + "/values", nameV != null, physOut, in.dtype(), in.quantization());
    TensorRef ti = l.newTensor(nameI != null ? nameI : base + "/indices", nameI != null, physOut, DType.INT64, Quantization.NONE);
    l.opWithOutputs(OpType.TOPK, new Options.TopK(p, largest), new TensorRef[] {tv, ti}, in);
    if (nameV != null) l.define(n, nameV, Value.permuted(nameV, tv, perm, shape).asUint8(x.uint8));
    if (nameI != null) l.define(n, nameI, Value.permuted(nameI, ti, perm, shape));
  }
}
