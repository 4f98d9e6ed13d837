package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reductions onto Kiln's MEAN and ADD/MUL kernels: ReduceMean over any axes (and
 * GlobalAveragePool of other than 4-D inputs), Sum and Mean of any number of inputs. MEAN runs
 * on the bytes as they are: the reduced logical axes are mapped to the tensor's physical axes, so
 * a reduction over the channels of an NHWC tensor needs no transpose.
 */
final class ReduceOps {
  private ReduceOps() {}

  /**
   * ReduceMean, ReduceMax, ReduceMin, ReduceSum: axes an attribute before opset 18 (13 for
   * ReduceSum), an optional input from then on (with noop_with_empty_axes).
   */
  static void reduceMean(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "data");
    Attrs a = l.attrs(n);
    boolean keep = a.i("keepdims", 1) != 0;
    int r = x.rank();
    long[] axes;
    if (l.opset < (n.opType().equals("ReduceSum") ? 13 : 18)) {
      axes = a.longs("axes");
    } else {
      axes = n.input(1) == null ? null : l.constantInput(n, 1, "axes").longs();
      if ((axes == null || axes.length == 0) && a.i("noop_with_empty_axes", 0) != 0) {
        String out = GraphLowering.output(n, 0);
        l.define(n, out, x.renamed(out));
        return;
      }
    }
    boolean[] reduced = new boolean[r];
    if (axes == null || axes.length == 0) {
      Arrays.fill(reduced, true);
    } else {
      for (long v : axes) {
        if (v < -r || v >= r) throw l.error(n, "has axis " + v + " for a rank-" + r + " input");
        int d = (int) (v < 0 ? v + r : v);
        if (reduced[d]) throw l.error(n, "reduces axis " + d + " twice");
        reduced[d] = true;
      }
    }
    OpType type = switch (n.opType()) {
      case "ReduceMax" -> OpType.REDUCE_MAX;
      case "ReduceMin" -> OpType.REDUCE_MIN;
      case "ReduceSum" -> OpType.SUM;
      default -> OpType.MEAN;
    };
    reduce(l, n, x, reduced, keep, GraphLowering.output(n, 0), type);
  }

  /** GlobalAveragePool of a 3-D or 5-D input: the mean over the spatial axes, kept as size 1. */
  static void globalMean(GraphLowering l, Proto.Node n, Value x) throws ModelFormatException {
    boolean[] reduced = new boolean[x.rank()];
    for (int d = 2; d < x.rank(); d++) reduced[d] = true;
    reduce(l, n, x, reduced, true, GraphLowering.output(n, 0), OpType.MEAN);
  }

  /** GlobalMaxPool of a 5-D (N, C, D, H, W) value as REDUCE_MAX over the spatial axes (onnx-ops2). */
  static void globalMax(GraphLowering l, Proto.Node n, Value x) throws ModelFormatException {
    boolean[] reduced = new boolean[x.rank()];
    for (int d = 2; d < x.rank(); d++) reduced[d] = true;
    reduce(l, n, l.floatValue(x), reduced, true, GraphLowering.output(n, 0), OpType.REDUCE_MAX);
  }

  private static void reduce(GraphLowering l, Proto.Node n, Value x, boolean[] reduced, boolean keep, String out, OpType type)
      throws ModelFormatException {
    int r = x.rank();
    int[] kept = x.shape.clone();
    List<Integer> squeezed = new ArrayList<>();
    for (int d = 0; d < r; d++) {
      if (reduced[d]) kept[d] = 1;
      else squeezed.add(x.shape[d]);
    }
    int[] shape = keep ? kept : squeezed.stream().mapToInt(Integer::intValue).toArray();
    if (x.isConstant() && type != OpType.MEAN) throw l.error(n, "has a constant input; Kiln does not fold " + n.opType());
    if (x.isConstant()) {
      l.define(n, out, Value.constant(out, foldMean(x.constant, reduced).reshape(shape)));
      return;
    }
    String name = keep ? out : out + "/kept";
    Value v = kept(l, n, x, reduced, name, keep, type);
    l.define(n, out, keep ? v : v.reshaped(out, shape));
  }

  /** {@code type} (MEAN, SUM, ...) of a computed {@code x} over the reduced axes, kept as size 1, on x's bytes' layout. */
  static Value kept(GraphLowering l, Proto.Node n, Value x, boolean[] reduced, String name, boolean onnxName, OpType type)
      throws ModelFormatException {
    int r = x.rank();
    int[] kept = x.shape.clone();
    for (int d = 0; d < r; d++) if (reduced[d]) kept[d] = 1;
    Value xf = l.floatValue(x);
    if (type == OpType.MEAN) NnOps.requireFloat(l, n, xf);
    if (x.elements() == 0) throw l.error(n, "reduces an empty tensor " + GraphLowering.shape(x.shape));
    GraphLowering.Stored stored = l.stored(xf);
    TensorRef in = stored.tensor();
    int[] perm = stored.perm();
    List<Integer> physAxes = new ArrayList<>();
    int[] physOut = in.shape().clone();
    for (int d = 0; d < r; d++) {
      if (!reduced[d]) continue;
      int p = perm == null ? d : perm[d];
      physAxes.add(p);
      physOut[p] = 1;
    }
    TensorRef t = l.newTensor(name, onnxName, physOut, xf.dtype, Quantization.NONE);
    l.op(type, new Options.Mean(physAxes.stream().mapToInt(Integer::intValue).sorted().toArray(), true), t, in);
    return Value.permuted(name, t, perm, kept);
  }

  /** The float mean over the reduced axes (keeping them as size 1), summed in index order as the kernel does. */
  private static Constant foldMean(Constant c, boolean[] reduced) {
    int[] s = c.shape();
    int r = s.length;
    int[] outShape = s.clone();
    for (int d = 0; d < r; d++) if (reduced[d]) outShape[d] = 1;
    float[] v = c.floats();
    int outCount = (int) dev.kiln.ir.Shape.elements(outShape);
    double[] sum = new double[outCount];
    int[] idx = new int[r];
    for (float f : v) {
      int o = 0;
      for (int d = 0; d < r; d++) o = o * outShape[d] + (reduced[d] ? 0 : idx[d]);
      sum[o] += f;
      for (int d = r - 1; d >= 0; d--) {
        if (++idx[d] < s[d]) break;
        idx[d] = 0;
      }
    }
    long count = v.length / Math.max(1, outCount);
    float[] m = new float[outCount];
    for (int i = 0; i < outCount; i++) m[i] = (float) (sum[i] / count);
    return Constant.ofFloats(outShape, m);
  }

  // ---- Sum, Mean --------------------------------------------------------------------------------

  /** Sum and Mean of one or more inputs (numpy broadcasting): ADDs left to right, Mean then times 1/count. */
  static void variadic(GraphLowering l, Proto.Node n) throws ModelFormatException {
    List<Value> in = new ArrayList<>();
    for (int i = 0; i < n.inputs().size(); i++) if (n.input(i) != null) in.add(l.value(n, n.input(i)));
    if (in.isEmpty()) throw l.error(n, "has no inputs");
    String out = GraphLowering.output(n, 0);
    boolean mean = n.opType().equals("Mean");
    if (in.stream().allMatch(Value::isConstant)) {
      Constant acc = in.get(0).constant;
      Proto.Node add = new Proto.Node(n.index(), n.name(), "Add", n.domain(), n.inputs(), n.outputs(), List.of(), n.path());
      for (int i = 1; i < in.size(); i++) acc = MathOps.fold(l, add, acc, in.get(i).constant);
      if (mean) {
        Proto.Node div = new Proto.Node(n.index(), n.name(), "Div", n.domain(), n.inputs(), n.outputs(), List.of(), n.path());
        acc = MathOps.fold(l, div, acc, Constant.ofFloats(new int[0], new float[] {in.size()}));
      }
      l.define(n, out, Value.constant(out, acc));
      return;
    }
    if (in.size() == 1) {
      l.define(n, out, in.get(0).renamed(out));
      return;
    }
    Value acc = l.floatValue(in.get(0));
    for (int i = 1; i < in.size(); i++) {
      Value b = l.floatValue(in.get(i));
      for (Value v : new Value[] {acc, b}) {
        if (v.dtype != DType.FLOAT32) throw l.error(n, "adds the " + v.dtype + " tensor '" + v.name + "'; Kiln compiles " + n.opType() + " on float32");
      }
      boolean last = i == in.size() - 1 && !mean;
      acc = MathOps.emitBinary(l, n, OpType.ADD, acc, b, last ? out : out + "/sum" + i, Activation.NONE);
    }
    if (mean) {
      Value scale = Value.constant(out + "/count", Constant.ofFloats(new int[0], new float[] {1f / in.size()}));
      acc = MathOps.emitBinary(l, n, OpType.MUL, acc, scale, out, Activation.NONE);
    }
    l.define(n, out, acc);
  }
}
