package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.ModelLimits;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Shape;

/**
 * Expand and Tile (issue 9 item 5, onnx-more) onto TFLite's BROADCAST_TO and TILE walks: the target
 * shape or the repeats must be constants; constant data is folded at import. A 4-D value whose bytes
 * are NHWC stays NHWC (the shape or multiples are permuted instead of the data).
 */
final class BroadcastOps {
  private BroadcastOps() {}

  /** Expand: numpy (bidirectional) broadcasting of the input to the constant {@code shape}. */
  static void expand(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "input");
    long[] want = l.constantInput(n, 1, "shape").longs();
    int[] target = new int[want.length];
    for (int i = 0; i < want.length; i++) {
      if (want[i] < 0 || want[i] > Integer.MAX_VALUE) throw l.error(n, "has shape entry " + want[i] + "; Expand needs sizes >= 0");
      target[i] = (int) want[i];
    }
    int[] shape = MathOps.broadcast(x.shape, target);
    if (shape == null) {
      throw l.error(n, "cannot broadcast its input " + GraphLowering.shape(x.shape) + " to " + GraphLowering.shape(target)
          + " (numpy rules: trailing dimensions equal or 1)");
    }
    String out = GraphLowering.output(n, 0);
    ModelLimits.checkTensor(l.file, n.label() + ": the output", shape, Math.max(1, x.dtype.byteSize()));
    if (java.util.Arrays.equals(shape, x.shape)) {
      l.define(n, out, x.renamed(out));
      return;
    }
    if (x.isConstant()) {
      l.define(n, out, Value.constant(out, gather(x.constant, shape, MathOps.indexMap(x.shape, shape))));
      return;
    }
    requireElements(l, n, shape);
    Value xf = MathOps.expand(l.floatValue(x), shape.length);
    int[] q = shape.length == 4 && GraphLowering.isNhwc(l.floatValue(x)) ? GraphLowering.NHWC : null;
    TensorRef in = l.layout(xf, q);
    int[] phys = q == null ? shape : Value.permute(shape, q);
    long[] dims = new long[phys.length];
    for (int d = 0; d < phys.length; d++) dims[d] = phys[d];
    TensorRef dimsT = l.constantTensor(out + "/shape", Constant.ofLongs(new int[] {phys.length}, DType.INT32, dims), Quantization.NONE);
    TensorRef t = l.newTensor(out, true, phys, in.dtype(), in.quantization());
    l.op(OpType.BROADCAST_TO, new Options.None(), t, in, dimsT);
    l.define(n, out, Value.permuted(out, t, q == null ? null : Value.inverse(q), shape));
  }

  /** Tile: the input repeated {@code repeats[d]} times along each axis (a constant per axis). */
  static void tile(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "input");
    long[] rep = l.constantInput(n, 1, "repeats").longs();
    int r = x.rank();
    if (rep.length != r) throw l.error(n, "has " + rep.length + " repeats for a rank-" + r + " input; Tile needs one per axis");
    int[] shape = new int[r];
    for (int d = 0; d < r; d++) {
      if (rep[d] < 0) throw l.error(n, "has repeat " + rep[d] + " on axis " + d + "; repeats must be >= 0");
      long s = (long) x.shape[d] * rep[d];
      if (s > Integer.MAX_VALUE) throw l.error(n, "tiles axis " + d + " to " + s + " elements, more than Kiln's limit");
      shape[d] = (int) s;
    }
    String out = GraphLowering.output(n, 0);
    ModelLimits.checkTensor(l.file, n.label() + ": the output", shape, Math.max(1, x.dtype.byteSize()));
    if (java.util.Arrays.equals(shape, x.shape)) {
      l.define(n, out, x.renamed(out));
      return;
    }
    if (x.isConstant()) {
      l.define(n, out, Value.constant(out, gather(x.constant, shape, tileMap(x.shape, shape))));
      return;
    }
    requireElements(l, n, shape);
    Value xf = l.floatValue(x);
    int[] q = r == 4 && GraphLowering.isNhwc(xf) ? GraphLowering.NHWC : null;
    TensorRef in = l.layout(xf, q);
    long[] m = new long[r];
    for (int d = 0; d < r; d++) m[d] = rep[q == null ? d : q[d]];
    TensorRef mult = l.constantTensor(out + "/multiples", Constant.ofLongs(new int[] {r}, DType.INT32, m), Quantization.NONE);
    int[] phys = q == null ? shape : Value.permute(shape, q);
    TensorRef t = l.newTensor(out, true, phys, in.dtype(), in.quantization());
    l.op(OpType.TILE, new Options.None(), t, in, mult);
    l.define(n, out, Value.permuted(out, t, q == null ? null : Value.inverse(q), shape));
  }

  private static void requireElements(GraphLowering l, Proto.Node n, int[] shape) throws ModelFormatException {
    if (Shape.elements(shape) == 0) {
      throw l.error(n, "has the empty output " + GraphLowering.shape(shape) + "; Kiln compiles " + n.opType() + " with at least one element");
    }
  }

  /** For each element of the tiled {@code out}, its source index in {@code in}. */
  private static int[] tileMap(int[] in, int[] out) {
    int r = out.length;
    int count = (int) Shape.elements(out);
    int[] map = new int[count];
    int[] idx = new int[r];
    for (int i = 0; i < count; i++) {
      int src = 0;
      for (int d = 0; d < r; d++) src = src * in[d] + idx[d] % in[d];
      map[i] = src;
      for (int d = r - 1; d >= 0; d--) {
        if (++idx[d] < out[d]) break;
        idx[d] = 0;
      }
    }
    return map;
  }

  /** The constant whose element i is {@code c}'s element {@code map[i]}, any dtype. */
  static Constant gather(Constant c, int[] shape, int[] map) {
    int size = c.dtype().byteSize();
    byte[] src = c.bytes();
    byte[] dst = new byte[map.length * size];
    for (int i = 0; i < map.length; i++) System.arraycopy(src, map[i] * size, dst, i * size, size);
    return new Constant(shape, c.dtype(), dst);
  }
}
