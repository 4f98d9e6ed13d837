package dev.kiln.compile;

import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Re-derives the shapes of activations the model marks dynamic (a -1 in TFLite's shape signature).
 * The converter stores a guess made for a batch of 1, which is wrong wherever the shape depends on
 * run-time values or on the batch: Keras' dilated Conv1D runs SPACE_TO_BATCH_ND (batch 2 inside),
 * Keras 3's UpSampling2D reshapes to a shape computed by SHAPE -> STRIDED_SLICE -> CONCATENATION.
 * TFLite re-derives them at allocation; Kiln does it here, op by op in order, with the constants
 * folding has found so far. An op whose output shape is not derived here keeps the stored shape
 * when none of its inputs changed, and is refused by the compiler otherwise.
 */
final class ShapeInference {
  private ShapeInference() {}

  /**
   * {@code op} with its inputs replaced as in {@code renamed} and its dynamic outputs re-derived
   * (recorded in {@code renamed}); an output still marked dynamic could not be derived.
   */
  static Op resolve(Op op, Map<Tensor, Tensor> renamed, Map<Tensor, byte[]> values) {
    List<Tensor> ins = new ArrayList<>(op.inputs().size());
    boolean changed = false;
    for (Tensor t : op.inputs()) {
      Tensor n = t == null ? null : renamed.getOrDefault(t, t);
      changed |= n != t && !Arrays.equals(n.shape(), t.shape());
      ins.add(n);
    }
    Op withInputs = new Op(op.index(), op.type(), ins, op.outputs(), op.options());
    if (op.outputs().stream().noneMatch(Tensor::hasDynamicShape)) return withInputs;
    int[][] shapes;
    try {
      shapes = paddingStale(op, withInputs) ? null : infer(withInputs, values);
    } catch (RuntimeException e) {
      shapes = null; // malformed: the kernel's own check names the problem
    }
    List<Tensor> outs = new ArrayList<>(op.outputs().size());
    for (int j = 0; j < op.outputs().size(); j++) {
      Tensor t = op.outputs().get(j);
      if (!t.hasDynamicShape()) {
        outs.add(t);
        continue;
      }
      int[] s = shapes != null && j < shapes.length ? shapes[j] : t.shape();
      Tensor n = t.toBuilder().shape(s).dynamicShape(shapes == null && changed).build();
      renamed.put(t, n);
      outs.add(n);
    }
    return new Op(op.index(), op.type(), ins, outs, op.options());
  }

  /**
   * True if a window op's explicit padding was resolved (by the frontend, from SAME) for spatial
   * sizes its input no longer has: then neither its output shape nor its padding can be trusted.
   */
  private static boolean paddingStale(Op source, Op resolved) {
    Options.Padding p;
    if (source.options() instanceof Options.Conv c) p = c.padding();
    else if (source.options() instanceof Options.Pool pool) p = pool.padding();
    else return false;
    if (p.equals(Options.Padding.ZERO) || source.input(0).rank() != 4 || resolved.input(0).rank() != 4) return false;
    return source.input(0).dim(1) != resolved.input(0).dim(1) || source.input(0).dim(2) != resolved.input(0).dim(2);
  }

  /** The output shapes of {@code op} from its inputs' shapes and constant values, or null if not derived here. */
  static int[][] infer(Op op, Map<Tensor, byte[]> values) {
    Tensor in = op.input(0);
    switch (op.type()) {
      case RELU: case RELU6: case RELU_N1_TO_1: case LOGISTIC: case TANH: case SOFTMAX: case LOG_SOFTMAX: case QUANTIZE:
      case DEQUANTIZE: case ABS: case NEG: case SQRT: case RSQRT: case SQUARE: case EXP: case LOG: case SIN: case COS:
      case CEIL: case FLOOR: case ROUND: case ELU: case LEAKY_RELU: case HARD_SWISH: case GELU: case CAST:
      case L2_NORMALIZATION: case LOCAL_RESPONSE_NORMALIZATION: case ZEROS_LIKE: case LOGICAL_NOT: case CUMSUM:
      case ADD_N:
        return one(in.shape());
      case ADD: case SUB: case MUL: case DIV: case FLOOR_DIV: case FLOOR_MOD: case POW: case SQUARED_DIFFERENCE:
      case MAXIMUM: case MINIMUM: case EQUAL: case NOT_EQUAL: case GREATER: case GREATER_EQUAL: case LESS: case LESS_EQUAL:
      case LOGICAL_AND: case LOGICAL_OR: case PRELU:
        return one(broadcast(in.shape(), op.input(1).shape()));
      case SELECT_V2:
        return one(broadcast(broadcast(in.shape(), op.input(1).shape()), op.input(2).shape()));
      case CONV_2D: case DEPTHWISE_CONV_2D: {
        Options.Conv o = op.options(Options.Conv.class);
        int[] f = op.input(1).shape();
        int channels = op.type() == dev.kiln.ir.OpType.CONV_2D ? f[0] : f[3];
        return one(new int[] {in.dim(0), window(in.dim(1), f[1], o.strideH(), o.dilationH(), o.padding().top() + o.padding().bottom()),
            window(in.dim(2), f[2], o.strideW(), o.dilationW(), o.padding().left() + o.padding().right()), channels});
      }
      case MAX_POOL_2D: case AVERAGE_POOL_2D: case L2_POOL_2D: {
        Options.Pool o = op.options() instanceof Options.QLinearPool q ? q.pool() : op.options(Options.Pool.class);
        return one(new int[] {in.dim(0), window(in.dim(1), o.filterH(), o.strideH(), 1, o.padding().top() + o.padding().bottom()),
            window(in.dim(2), o.filterW(), o.strideW(), 1, o.padding().left() + o.padding().right()), in.dim(3)});
      }
      case FULLY_CONNECTED: {
        int units = op.input(1).dim(0);
        if (op.options(Options.FullyConnected.class).keepNumDims()) {
          int[] s = in.shape();
          s[s.length - 1] = units;
          return one(s);
        }
        return one(new int[] {Math.toIntExact(in.elements() / op.input(1).dim(1)), units});
      }
      case RESHAPE: {
        long[] target = op.input(1) == null ? null : ints(op.input(1), values);
        if (target == null) return null;
        return one(reshape(in, target));
      }
      case EXPAND_DIMS: {
        long[] axis = ints(op.input(1), values);
        if (axis == null || axis.length != 1) return null;
        int rank = in.rank() + 1;
        int a = (int) (axis[0] < 0 ? axis[0] + rank : axis[0]);
        int[] s = new int[rank];
        for (int d = 0, k = 0; d < rank; d++) s[d] = d == a ? 1 : in.dim(k++);
        return one(s);
      }
      case CONCATENATION: {
        int axis = op.options(Options.Concat.class).axis();
        int[] s = in.shape();
        int a = axis < 0 ? axis + s.length : axis;
        s[a] = 0;
        for (Tensor t : op.inputs()) s[a] += t.dim(a);
        return one(s);
      }
      case TILE: {
        long[] m = ints(op.input(1), values);
        if (m == null) return null;
        int[] s = in.shape();
        for (int d = 0; d < s.length; d++) s[d] = Math.toIntExact(s[d] * m[d]);
        return one(s);
      }
      case SPACE_TO_BATCH_ND: case BATCH_TO_SPACE_ND: {
        Options.SpaceBatch o = op.options(Options.SpaceBatch.class);
        int[] s = in.shape();
        int blocks = 1;
        for (int b : o.block()) blocks *= b;
        boolean toBatch = op.type() == dev.kiln.ir.OpType.SPACE_TO_BATCH_ND;
        for (int d = 0; d < o.block().length; d++) {
          int padded = s[d + 1] + (toBatch ? o.before()[d] + o.after()[d] : 0);
          s[d + 1] = toBatch ? padded / o.block()[d] : padded * o.block()[d] - o.before()[d] - o.after()[d];
        }
        s[0] = toBatch ? s[0] * blocks : s[0] / blocks;
        return one(s);
      }
      case PAD: case PADV2: {
        Options.Pad o = op.options(Options.Pad.class);
        int[] s = in.shape();
        for (int d = 0; d < s.length; d++) s[d] += o.before()[d] + o.after()[d];
        return one(s);
      }
      case MEAN: case SUM: case REDUCE_MAX: case REDUCE_MIN: case REDUCE_ALL: case REDUCE_PROD: {
        Options.Mean o = op.options(Options.Mean.class);
        int[] s = in.shape();
        boolean[] reduced = new boolean[s.length];
        for (int a : o.axes()) reduced[a < 0 ? a + s.length : a] = true;
        List<Integer> out = new ArrayList<>();
        for (int d = 0; d < s.length; d++) {
          if (!reduced[d]) out.add(s[d]);
          else if (o.keepDims()) out.add(1);
        }
        return one(out.stream().mapToInt(Integer::intValue).toArray());
      }
      case TRANSPOSE_CONV: {
        long[] declared = ints(in, values);
        if (declared == null) return null;
        return one(Arrays.stream(declared).mapToInt(Math::toIntExact).toArray());
      }
      case TRANSPOSE: {
        int[] perm = op.options(Options.Transpose.class).perm();
        int[] s = new int[perm.length];
        for (int d = 0; d < perm.length; d++) s[d] = in.dim(perm[d]);
        return one(s);
      }
      default:
        return null;
    }
  }

  private static int[][] one(int[] shape) { return new int[][] {shape}; }

  /** Output length of a sliding window over explicitly padded input. */
  private static int window(int in, int filter, int stride, int dilation, int padding) {
    int effective = (filter - 1) * dilation + 1;
    return (in + padding - effective) / stride + 1;
  }

  private static int[] broadcast(int[] a, int[] b) {
    int rank = Math.max(a.length, b.length);
    int[] s = new int[rank];
    for (int d = 0; d < rank; d++) {
      int x = d - (rank - a.length) >= 0 ? a[d - (rank - a.length)] : 1;
      int y = d - (rank - b.length) >= 0 ? b[d - (rank - b.length)] : 1;
      if (x != y && x != 1 && y != 1) throw new IllegalArgumentException("shapes do not broadcast");
      s[d] = x == 1 ? y : x;
    }
    return s;
  }

  /** A reshape target with at most one -1, resolved against the input's element count. */
  private static int[] reshape(Tensor in, long[] target) {
    int[] s = new int[target.length];
    long known = 1;
    int free = -1;
    for (int d = 0; d < s.length; d++) {
      if (target[d] == -1) free = d;
      else known *= target[d];
    }
    for (int d = 0; d < s.length; d++) s[d] = d == free ? Math.toIntExact(in.elements() / Math.max(known, 1)) : (int) target[d];
    return s;
  }

  /** A constant int32/int64 tensor's values (from the model or folded so far), or null if not constant. */
  private static long[] ints(Tensor t, Map<Tensor, byte[]> values) {
    byte[] data = t.isConstant() ? t.data() : values.get(t);
    if (data == null) return null;
    int size = t.dtype().byteSize();
    if (size != 4 && size != 8) return null;
    ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    long[] out = new long[data.length / size];
    for (int i = 0; i < out.length; i++) out[i] = size == 8 ? b.getLong(i * 8) : b.getInt(i * 4);
    return out;
  }
}
