package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;

/**
 * Axis-taking operators on computed tensors (issue 9 item 5): ArgMax/ArgMin on the physical axis
 * the logical one lives on (no transpose for an NHWC tensor), DepthToSpace/SpaceToDepth on the
 * NHWC layout the TFLite kernels use, and Gather with indices computed at run time.
 */
final class AxisOps {
  private AxisOps() {}

  /**
   * ArgMax/ArgMin (int64 indices); the reduced axis kept as size 1 in the bytes. Ties go to the first index, or with
   * select_last_index to the last: the kernel then reads the axis reversed (a STRIDED_SLICE with step -1) and a GATHER
   * from the constant table size-1..0 turns its index back.
   */
  static void argMinMax(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "data");
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold " + n.opType());
    x = l.floatValue(x);
    Attrs a = l.attrs(n);
    int r = x.rank();
    if (r == 0) throw l.error(n, "has a scalar input; " + n.opType() + " needs at least one dimension");
    int axis = a.int32("axis", 0);
    if (axis < -r || axis >= r) throw l.error(n, "axis " + axis + " is out of range for rank " + r);
    if (axis < 0) axis += r;
    boolean last = a.i("select_last_index", 0) != 0;
    int size = x.shape[axis];
    String out = GraphLowering.output(n, 0);
    if (last) {
      // the kernels pick the first index on ties: run them on the axis reversed, and map i back to size-1-i below
      int[] begin = new int[r];
      int[] step = new int[r];
      java.util.Arrays.fill(step, 1);
      begin[axis] = size - 1;
      step[axis] = -1;
      x = stridedSlice(l, n, x, begin, step, x.shape, out + "/reversed", false);
    }
    boolean keep = a.i("keepdims", 1) != 0;
    GraphLowering.Stored stored = l.stored(x);
    TensorRef in = stored.tensor();
    int[] perm = stored.perm();
    int p = perm == null ? axis : perm[axis];
    int[] physOut = in.shape().clone();
    physOut[p] = 1;
    int[] kept = x.shape.clone();
    kept[axis] = 1;
    int[] squeezed = new int[r - 1];
    for (int d = 0, k = 0; d < r; d++) if (d != axis) squeezed[k++] = x.shape[d];
    String name = keep ? out : out + "/kept";
    TensorRef t = l.newTensor(last ? name + "/of_reversed" : name, keep && !last, physOut, DType.INT64, Quantization.NONE);
    l.op(n.opType().equals("ArgMax") ? OpType.ARG_MAX : OpType.ARG_MIN, new Options.ArgMinMax(p), t, in);
    if (last) {
      long[] back = new long[size];
      for (int i = 0; i < size; i++) back[i] = size - 1 - i;
      TensorRef table = l.constantTensor(out + "/unreversed", Constant.ofLongs(new int[] {size}, DType.INT64, back), Quantization.NONE);
      TensorRef u = l.newTensor(name, keep, physOut, DType.INT64, Quantization.NONE);
      l.op(OpType.GATHER, new Options.Gather(0, 0), u, table, t);
      t = u;
    }
    Value v = Value.permuted(name, t, perm, kept);
    l.define(n, out, keep ? v : v.reshaped(out, squeezed));
  }

  /**
   * DepthToSpace and SpaceToDepth of a 4-D NCHW value, run in NHWC; the TFLite kernels use the DCR channel order, and
   * CRD reorders the channels with a GATHER before DepthToSpace or after SpaceToDepth.
   */
  static void depthSpace(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "input");
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold " + n.opType());
    x = l.floatValue(x);
    if (x.rank() != 4) throw l.error(n, "has a rank-" + x.rank() + " input " + GraphLowering.shape(x.shape) + "; it needs [N,C,H,W]");
    Attrs a = l.attrs(n);
    int bs = a.int32("blocksize", 0);
    if (bs < 1) throw l.error(n, "has blocksize " + bs + "; it must be at least 1");
    boolean d2s = n.opType().equals("DepthToSpace");
    int[] s = x.shape;
    int[] shape;
    String mode = a.s("mode", "DCR");
    boolean crd = mode.equals("CRD");
    if (!mode.equals("DCR") && !crd) throw l.error(n, "has mode " + mode + "; Kiln compiles " + n.opType() + " in DCR and CRD modes");
    if (d2s) {
      if (s[1] % (bs * bs) != 0) throw l.error(n, "has " + s[1] + " channels, not a multiple of blocksize^2 = " + bs * bs);
      shape = new int[] {s[0], s[1] / (bs * bs), s[2] * bs, s[3] * bs};
    } else {
      if (s[2] % bs != 0 || s[3] % bs != 0) {
        throw l.error(n, "has height and width " + s[2] + "x" + s[3] + ", not multiples of blocksize " + bs);
      }
      shape = new int[] {s[0], s[1] * bs * bs, s[2] / bs, s[3] / bs};
    }
    TensorRef in = l.layout(x, GraphLowering.NHWC);
    String out = GraphLowering.output(n, 0);
    if (crd && d2s) {
      // CRD reads channel c*bs*bs + i*bs + j where DCR reads (i*bs + j)*C + c: reorder the channels (GATHER), then DCR
      int c = s[1] / (bs * bs);
      long[] idx = new long[s[1]];
      for (int cc = 0; cc < c; cc++) for (int ij = 0; ij < bs * bs; ij++) idx[ij * c + cc] = (long) cc * bs * bs + ij;
      TensorRef ti = l.constantTensor(out + "/crd_channels", Constant.ofLongs(new int[] {s[1]}, DType.INT32, idx), Quantization.NONE);
      TensorRef g = l.newTensor(out + "/dcr", false, in.shape(), in.dtype(), in.quantization());
      l.op(OpType.GATHER, new Options.Gather(3, 0), g, in, ti);
      in = g;
    }
    boolean reorder = crd && !d2s;
    TensorRef t = l.newTensor(reorder ? out + "/dcr" : out, !reorder, Value.permute(shape, GraphLowering.NHWC), in.dtype(), Quantization.NONE);
    l.op(d2s ? OpType.DEPTH_TO_SPACE : OpType.SPACE_TO_DEPTH, new Options.BlockSize(bs), t, in);
    if (reorder) {
      // SpaceToDepth in CRD mode writes block offset (i, j) of channel c to c*bs*bs + i*bs + j, DCR to (i*bs + j)*C + c
      int c = s[1];
      long[] idx = new long[c * bs * bs];
      for (int cc = 0; cc < c; cc++) for (int ij = 0; ij < bs * bs; ij++) idx[cc * bs * bs + ij] = (long) ij * c + cc;
      TensorRef ti = l.constantTensor(out + "/crd_channels", Constant.ofLongs(new int[] {idx.length}, DType.INT32, idx), Quantization.NONE);
      TensorRef g = l.newTensor(out, true, t.shape(), t.dtype(), t.quantization());
      l.op(OpType.GATHER, new Options.Gather(3, 0), g, t, ti);
      t = g;
    }
    l.define(n, out, Value.permuted(out, t, GraphLowering.NCHW, shape));
  }

  /**
   * Gather: folded when data and indices are constants ({@link ShapeOps#gather}); otherwise GATHER
   * in logical order. Constant negative indices are wrapped here; run-time ones by
   * {@code idx < 0 ? idx + size : idx} (LESS, ADD, SELECT_V2) since GATHER takes 0..size-1.
   */
  static void gather(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value data = l.input(n, 0, "data");
    Value idx = l.input(n, 1, "indices");
    if (data.isConstant() && idx.isConstant()) {
      ShapeOps.gather(l, n);
      return;
    }
    data = l.floatValue(data);
    int r = data.rank();
    if (r == 0) throw l.error(n, "gathers from a scalar; data needs at least one dimension");
    int axis = l.attrs(n).int32("axis", 0);
    if (axis < -r || axis >= r) throw l.error(n, "axis " + axis + " is out of range for rank " + r);
    if (axis < 0) axis += r;
    int size = data.shape[axis];
    if (idx.dtype != DType.INT64 && idx.dtype != DType.INT32) throw l.error(n, "has " + idx.dtype + " indices; ONNX Gather takes int32 or int64");
    String out = GraphLowering.output(n, 0);
    if (idx.isConstant()) {
      long[] v = idx.constant.longs();
      for (int i = 0; i < v.length; i++) {
        if (v[i] < -size || v[i] >= size) throw l.error(n, "has index " + v[i] + " outside the axis of size " + size);
        if (v[i] < 0) v[i] += size;
      }
      idx = Value.constant(idx.name + "/wrapped", Constant.ofLongs(idx.shape, DType.INT64, v));
    } else {
      Value zero = Value.constant(out + "/zero", Constant.ofLongs(new int[0], idx.dtype, new long[] {0}));
      Value sz = Value.constant(out + "/size", Constant.ofLongs(new int[0], idx.dtype, new long[] {size}));
      Value neg = EltwiseOps.emit(l, n, OpType.LESS, new Options.None(), DType.BOOL, out + "/negative", false, idx, zero);
      Value up = EltwiseOps.emit(l, n, OpType.ADD, new Options.Elementwise(Activation.NONE), idx.dtype, out + "/wrapped", false, idx, sz);
      idx = EltwiseOps.emit(l, n, OpType.SELECT_V2, new Options.None(), idx.dtype, out + "/indices", false, neg, up, idx);
    }
    TensorRef td = l.layout(data, null);
    TensorRef ti = l.layout(idx, null);
    int[] is = idx.shape;
    int[] shape = new int[r - 1 + is.length];
    System.arraycopy(data.shape, 0, shape, 0, axis);
    System.arraycopy(is, 0, shape, axis, is.length);
    System.arraycopy(data.shape, axis + 1, shape, axis + is.length, r - axis - 1);
    TensorRef t = l.newTensor(out, true, shape, td.dtype(), td.quantization());
    l.op(OpType.GATHER, new Options.Gather(axis, 0), t, td, ti);
    l.define(n, out, Value.tensor(out, t, shape));
  }

  /**
   * {@code x[begin[0]::step[0], ...]} with {@code shape} elements per logical axis, as a
   * STRIDED_SLICE on x's bytes (logical axes mapped to physical ones, so an NHWC value stays NHWC).
   * An end of -1 with a negative step (slice down to index 0) is an end-mask bit, since TFLite wraps -1.
   */
  static Value stridedSlice(GraphLowering l, Proto.Node n, Value x, int[] begin, int[] step, int[] shape, String out, boolean onnxName)
      throws ModelFormatException {
    if (dev.kiln.ir.Shape.elements(shape) == 0) {
      throw l.error(n, "slices the computed tensor '" + x.name + "' " + GraphLowering.shape(x.shape) + " to the empty "
          + GraphLowering.shape(shape) + "; Kiln compiles slices with at least one element");
    }
    x = l.floatValue(x);
    GraphLowering.Stored stored = l.stored(x);
    TensorRef in = stored.tensor();
    int[] perm = stored.perm();
    int r = x.rank();
    long[] b = new long[r];
    long[] e = new long[r];
    long[] s = new long[r];
    int[] physOut = in.shape().clone();
    int endMask = 0;
    for (int d = 0; d < r; d++) {
      int p = perm == null ? d : perm[d];
      b[p] = begin[d];
      s[p] = step[d];
      long last = begin[d] + (long) (shape[d] - 1) * step[d];
      e[p] = step[d] > 0 ? last + 1 : last - 1;
      if (e[p] < 0) endMask |= 1 << p;
      physOut[p] = shape[d];
    }
    int[] rs = {r};
    TensorRef tb = l.constantTensor(out + "/begin", Constant.ofLongs(rs, DType.INT32, b), Quantization.NONE);
    TensorRef te = l.constantTensor(out + "/end", Constant.ofLongs(rs, DType.INT32, e), Quantization.NONE);
    TensorRef ts = l.constantTensor(out + "/strides", Constant.ofLongs(rs, DType.INT32, s), Quantization.NONE);
    TensorRef t = l.newTensor(out, onnxName, physOut, in.dtype(), in.quantization());
    l.op(OpType.STRIDED_SLICE, new Options.StridedSlice(0, endMask, 0, 0, 0, false), t, in, tb, te, ts);
    return Value.permuted(out, t, perm, shape);
  }

  /**
   * Split into consecutive parts along one axis (sizes from the 'split' input or attribute, else
   * equal parts, the last smaller with opset 18's num_outputs): one STRIDED_SLICE per output.
   */
  static void split(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "input");
    int r = x.rank();
    Attrs a = l.attrs(n);
    int axis = a.int32("axis", 0);
    if (axis < -r || axis >= r) throw l.error(n, "axis " + axis + " is out of range for rank " + r);
    if (axis < 0) axis += r;
    int outs = n.outputs().size();
    int dim = x.shape[axis];
    long[] sizes;
    if (l.opset >= 13 && n.input(1) != null) {
      sizes = l.constantInput(n, 1, "split").longs();
    } else if (l.opset < 13 && a.has("split")) {
      sizes = a.longs("split");
    } else {
      sizes = new long[outs];
      long chunk = (dim + outs - 1) / outs;
      if (l.opset < 18 && dim % outs != 0) {
        throw l.error(n, "splits dimension " + axis + " (" + dim + ") into " + outs + " equal parts, which does not divide");
      }
      long left = dim;
      for (int k = 0; k < outs; k++) {
        sizes[k] = Math.min(chunk, left);
        left -= sizes[k];
      }
    }
    if (sizes.length != outs) throw l.error(n, "has " + sizes.length + " split sizes for " + outs + " outputs");
    long total = 0;
    for (long v : sizes) {
      if (v < 0) throw l.error(n, "has a negative split size " + v);
      total += v;
    }
    if (total != dim) throw l.error(n, "has split sizes " + java.util.Arrays.toString(sizes) + " adding up to " + total + ", not " + dim);
    int start = 0;
    for (int k = 0; k < outs; k++) {
      String out = GraphLowering.output(n, k);
      int[] begin = new int[r];
      int[] step = new int[r];
      java.util.Arrays.fill(step, 1);
      int[] shape = x.shape.clone();
      begin[axis] = start;
      shape[axis] = (int) sizes[k];
      start += (int) sizes[k];
      if (out == null) continue;
      if (x.isConstant()) {
        l.define(n, out, Value.constant(out, FoldOps.strided(x.constant, begin, step, shape)));
      } else {
        l.define(n, out, stridedSlice(l, n, x, begin, step, shape, out, true));
      }
    }
  }
}
