package dev.kiln.compile;

import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Shape;
import dev.kiln.ir.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The geometry of the data-movement ops (TFLite semantics): which input elements each output
 * element comes from, derived from the op's shapes and constant index inputs. Shared by the
 * constant folder and the kernels so both agree. Problems are IllegalArgumentExceptions with a
 * sentence naming the input; the caller adds the op.
 */
public final class Movement {
  private Movement() {}

  // ---- constant inputs -------------------------------------------------------------------------

  /** The integer values of a constant int32/int64 tensor. */
  public static long[] ints(Tensor t) {
    byte[] data = t.data();
    ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    int size = t.dtype().byteSize();
    long[] out = new long[data.length / size];
    for (int i = 0; i < out.length; i++) out[i] = size == 8 ? b.getLong(i * 8) : b.getInt(i * 4);
    return out;
  }

  /** Input {@code i}'s values, which must be a constant int32/int64 tensor (after folding). */
  public static long[] constantInts(Op op, int i, String role) {
    Tensor t = op.input(i);
    if (t == null) throw new IllegalArgumentException("the " + role + " input " + i + " is missing");
    if (t.dtype() != DType.INT32 && t.dtype() != DType.INT64) {
      throw new IllegalArgumentException("the " + role + " input '" + t.name() + "' is " + t.dtype() + "; expected int32 or int64");
    }
    if (!t.isConstant()) {
      throw new IllegalArgumentException("the " + role + " input '" + t.name() + "' is computed at run time; Kiln needs it constant"
          + " (or computable at compile time from constants and static shapes), as TFLite Micro does");
    }
    return ints(t);
  }

  /** The tensor the op moves data out of (SPLIT reads its axis first; EMBEDDING_LOOKUP its ids). */
  public static Tensor data(Op op) {
    return op.type() == OpType.SPLIT || op.type() == OpType.EMBEDDING_LOOKUP ? op.input(1) : op.input(0);
  }

  private static int axis(long a, int rank, String role) {
    long n = a < 0 ? a + rank : a;
    if (n < 0 || n >= rank) throw new IllegalArgumentException("the " + role + " " + a + " is outside rank " + rank);
    return (int) n;
  }

  // ---- single walks ------------------------------------------------------------------------------

  /** The one walk of SLICE, STRIDED_SLICE, REVERSE_V2, TILE, BROADCAST_TO or TRANSPOSE. */
  public static Walk walk(Op op) {
    Tensor in = op.input(0);
    int[] inShape = in.shape();
    long[] stride = Walk.strides(inShape);
    Walk w;
    switch (op.type()) {
      case SLICE: w = slice(inShape, stride, constantInts(op, 1, "begin"), constantInts(op, 2, "size")); break;
      case STRIDED_SLICE: w = stridedSlice(op, inShape, stride); break;
      case REVERSE_V2: w = reverse(inShape, stride, constantInts(op, 1, "axis")); break;
      case TILE: w = tile(inShape, stride, constantInts(op, 1, "multiples")); break;
      case BROADCAST_TO: w = broadcastTo(inShape, stride, op.output().shape()); break;
      case TRANSPOSE: {
        int[] perm = op.options(Options.Transpose.class).perm();
        int[] sh = new int[perm.length];
        long[] st = new long[perm.length];
        for (int i = 0; i < perm.length; i++) {
          sh[i] = inShape[perm[i]];
          st[i] = stride[perm[i]];
        }
        w = new Walk(sh, 0, st);
        break;
      }
      default: throw new IllegalArgumentException(op.type() + " is not a single walk");
    }
    if (w.elements() != op.output().elements()) {
      throw new IllegalArgumentException("the output " + Shape.toString(op.output().shape()) + " has " + op.output().elements()
          + " elements, but the op's inputs select " + w.elements() + " (" + Shape.toString(w.shape()) + ")");
    }
    return w;
  }

  private static Walk slice(int[] in, long[] stride, long[] begin, long[] size) {
    int r = in.length;
    if (begin.length != r || size.length != r) {
      throw new IllegalArgumentException("begin has " + begin.length + " and size " + size.length + " entries for an input of rank " + r);
    }
    int[] sh = new int[r];
    long off = 0;
    for (int d = 0; d < r; d++) {
      long b = begin[d];
      long s = size[d] == -1 ? in[d] - b : size[d];
      if (b < 0 || s < 0 || b + s > in[d]) {
        throw new IllegalArgumentException("begin " + b + " size " + size[d] + " is outside dimension " + d + " of " + Shape.toString(in));
      }
      sh[d] = (int) s;
      off += b * stride[d];
    }
    return new Walk(sh, off, stride);
  }

  private static Walk reverse(int[] in, long[] stride, long[] axes) {
    long[] st = stride.clone();
    long off = 0;
    boolean[] done = new boolean[in.length];
    for (long a : axes) {
      int d = axis(a, in.length, "axis");
      if (done[d]) continue;
      done[d] = true;
      off += (long) Math.max(0, in[d] - 1) * stride[d];
      st[d] = -stride[d];
    }
    return new Walk(in, off, st);
  }

  /** Output axis d of TILE is the pair (repeat, in[d]): the repeat steps 0 through the input. */
  private static Walk tile(int[] in, long[] stride, long[] multiples) {
    int r = in.length;
    if (multiples.length != r) {
      throw new IllegalArgumentException("multiples has " + multiples.length + " entries for an input of rank " + r);
    }
    int[] sh = new int[2 * r];
    long[] st = new long[2 * r];
    for (int d = 0; d < r; d++) {
      if (multiples[d] < 0) throw new IllegalArgumentException("multiple " + multiples[d] + " of dimension " + d + " is negative");
      sh[2 * d] = Math.toIntExact(multiples[d]);
      st[2 * d] = 0;
      sh[2 * d + 1] = in[d];
      st[2 * d + 1] = stride[d];
    }
    return new Walk(sh, 0, st);
  }

  private static Walk broadcastTo(int[] in, long[] stride, int[] out) {
    if (out.length < in.length) {
      throw new IllegalArgumentException("cannot broadcast " + Shape.toString(in) + " to the lower-rank " + Shape.toString(out));
    }
    long[] st = new long[out.length];
    int lead = out.length - in.length;
    for (int d = 0; d < out.length; d++) {
      if (d < lead) continue;
      int id = d - lead;
      if (in[id] == out[d]) st[d] = stride[id];
      else if (in[id] == 1) st[d] = 0;
      else throw new IllegalArgumentException("cannot broadcast " + Shape.toString(in) + " to " + Shape.toString(out));
    }
    return new Walk(out, 0, st);
  }

  /**
   * STRIDED_SLICE as TFLite's kernel computes it: ellipsis and new axes expanded into an effective
   * input (new axes have size 1), then per axis a start and stop clamped by the masks and the
   * stride's sign; shrunk and new axes have one element, so the walk's order is the output's.
   */
  private static Walk stridedSlice(Op op, int[] in, long[] inStride) {
    Options.StridedSlice o = op.options(Options.StridedSlice.class);
    long[] begin = constantInts(op, 1, "begin");
    long[] end = constantInts(op, 2, "end");
    long[] strides = op.input(3) == null ? filled(begin.length, 1) : constantInts(op, 3, "strides");
    int n = begin.length;
    if (end.length != n || strides.length != n) {
      throw new IllegalArgumentException("begin, end and strides have " + n + ", " + end.length + " and " + strides.length + " entries");
    }
    int inDims = in.length;
    int numAddAxis = 0;
    for (int i = 0; i < n; i++) {
      if ((o.ellipsisMask() & (1 << i)) == 0 && (o.newAxisMask() & (1 << i)) != 0) numAddAxis++;
    }
    int eff = inDims + numAddAxis;
    int effEllipsis = 0;
    int effNewAxis = 0;
    int ellipsisStart = eff;
    int expanded = 0;
    for (int i = 0; i < eff; ) {
      if ((o.ellipsisMask() & (1 << i)) != 0) {
        ellipsisStart = i;
        int ellipsisEnd = Math.max(i + 1, Math.min(i + 1 + numAddAxis + inDims - n, eff));
        expanded = ellipsisEnd - ellipsisStart - 1;
        for (; i < ellipsisEnd; ++i) effEllipsis |= 1 << i;
        continue;
      }
      if ((o.newAxisMask() & (1 << (i - expanded))) != 0) effNewAxis |= 1 << i;
      ++i;
    }
    long[] start = new long[eff];
    long[] stop = new long[eff];
    long[] step = new long[eff];
    int[] shape = new int[eff];
    int[] srcAxis = new int[eff];
    int beginMask = 0;
    int endMask = 0;
    int shrinkMask = 0;
    int addedEllipsis = 0;
    int addedAxes = 0;
    for (int i = 0; i < eff; i++) {
      if ((effEllipsis & (1 << i)) != 0) {
        addedEllipsis = Math.max(0, i - ellipsisStart);
        beginMask |= 1 << i;
        endMask |= 1 << i;
        step[i] = 1;
        srcAxis[i] = i - addedAxes;
        shape[i] = in[srcAxis[i]];
      } else if ((effNewAxis & (1 << i)) != 0) {
        start[i] = 0;
        stop[i] = 1;
        step[i] = 1;
        shape[i] = 1;
        srcAxis[i] = -1;
        addedAxes++;
      } else if (i >= n + expanded) {
        step[i] = 1;
        beginMask |= 1 << i;
        endMask |= 1 << i;
        srcAxis[i] = i - addedAxes;
        shape[i] = in[srcAxis[i]];
      } else {
        int orig = i - addedEllipsis;
        start[i] = begin[orig];
        stop[i] = end[orig];
        step[i] = strides[orig];
        if ((o.beginMask() & (1 << orig)) != 0) beginMask |= 1 << i;
        if ((o.endMask() & (1 << orig)) != 0) endMask |= 1 << i;
        if ((o.shrinkAxisMask() & (1 << orig)) != 0) shrinkMask |= 1 << i;
        srcAxis[i] = i - addedAxes;
        shape[i] = in[srcAxis[i]];
      }
    }
    int[] outShape = new int[eff];
    long[] walkStep = new long[eff];
    long off = 0;
    for (int i = 0; i < eff; i++) {
      if (step[i] == 0) throw new IllegalArgumentException("stride " + i + " is 0");
      long s = startForAxis((beginMask & (1 << i)) != 0, start[i], step[i], shape[i]);
      long e;
      if ((shrinkMask & (1 << i)) != 0) e = s + 1;
      else e = stopForAxis((endMask & (1 << i)) != 0, o.offset(), start[i], stop[i], step[i], shape[i]);
      long len = (long) Math.ceil((e - s) / (double) step[i]);
      if (len < 0) len = 0;
      outShape[i] = (int) len;
      if (srcAxis[i] >= 0) {
        walkStep[i] = step[i] * inStride[srcAxis[i]];
        if (len > 0) off += s * inStride[srcAxis[i]];
      }
    }
    return new Walk(outShape, off, walkStep);
  }

  private static long startForAxis(boolean masked, long start, long stride, int size) {
    if (size == 0) return 0;
    if (masked) start = stride > 0 ? Integer.MIN_VALUE : Integer.MAX_VALUE;
    if (start < 0) start += size;
    return stride > 0 ? clamp(start, 0, size) : clamp(start, -1, size - 1);
  }

  /** {@code offset} (StridedSliceOptions.offset) makes the stop relative to the begin value. */
  private static long stopForAxis(boolean masked, boolean offset, long rawStart, long stop, long stride, int size) {
    if (size == 0) return 0;
    if (masked) stop = stride > 0 ? Integer.MAX_VALUE : Integer.MIN_VALUE;
    else if (offset) stop += rawStart;
    if (stop < 0) stop += size;
    return stride > 0 ? clamp(stop, 0, size) : clamp(stop, -1, size - 1);
  }

  private static long clamp(long v, long lo, long hi) { return Math.max(lo, Math.min(hi, v)); }

  private static long[] filled(int n, long v) {
    long[] a = new long[n];
    Arrays.fill(a, v);
    return a;
  }

  // ---- several outputs ---------------------------------------------------------------------------

  /** SPLIT, SPLIT_V and UNPACK: one walk per output, each a block along the split axis. */
  public static List<Walk> parts(Op op) {
    Tensor in = data(op);
    int[] inShape = in.shape();
    int r = inShape.length;
    int axis;
    long[] sizes;
    int outs = op.outputs().size();
    switch (op.type()) {
      case SPLIT: {
        long[] a = constantInts(op, 0, "axis");
        if (a.length != 1) throw new IllegalArgumentException("the axis input has " + a.length + " values; expected one");
        axis = axis(a[0], r, "axis");
        if (inShape[axis] % outs != 0) {
          throw new IllegalArgumentException("dimension " + axis + " (" + inShape[axis] + ") does not split into " + outs + " equal parts");
        }
        sizes = filled(outs, inShape[axis] / outs);
        break;
      }
      case SPLIT_V: {
        long[] a = constantInts(op, 2, "axis");
        if (a.length != 1) throw new IllegalArgumentException("the axis input has " + a.length + " values; expected one");
        axis = axis(a[0], r, "axis");
        sizes = constantInts(op, 1, "size_splits");
        if (sizes.length != outs) throw new IllegalArgumentException("size_splits has " + sizes.length + " entries for " + outs + " outputs");
        long known = 0;
        int unknown = -1;
        for (int i = 0; i < sizes.length; i++) {
          if (sizes[i] == -1 && unknown < 0) unknown = i;
          else known += sizes[i];
        }
        if (unknown >= 0) sizes[unknown] = inShape[axis] - known;
        break;
      }
      case UNPACK:
        axis = op.options(Options.Axis.class).axis();
        if (axis >= r || inShape[axis] != outs) {
          throw new IllegalArgumentException("UNPACK of " + Shape.toString(inShape) + " along axis " + axis + " cannot give " + outs + " outputs");
        }
        sizes = filled(outs, 1);
        break;
      default: throw new IllegalArgumentException(op.type() + " has no parts");
    }
    long[] stride = Walk.strides(inShape);
    List<Walk> walks = new ArrayList<>();
    long begin = 0;
    for (int j = 0; j < outs; j++) {
      if (sizes[j] < 0 || begin + sizes[j] > inShape[axis]) {
        throw new IllegalArgumentException("the split sizes " + Arrays.toString(sizes) + " do not fit dimension " + axis + " (" + inShape[axis] + ")");
      }
      int[] sh = inShape.clone();
      sh[axis] = (int) sizes[j];
      Walk w = new Walk(sh, begin * stride[axis], stride);
      if (w.elements() != op.outputs().get(j).elements()) {
        throw new IllegalArgumentException("output " + j + " " + Shape.toString(op.outputs().get(j).shape()) + " does not hold the "
            + Shape.toString(sh) + " block it gets");
      }
      walks.add(w);
      begin += sizes[j];
    }
    if (begin != inShape[axis]) {
      throw new IllegalArgumentException("the split sizes " + Arrays.toString(sizes) + " add up to " + begin + ", not " + inShape[axis]);
    }
    return walks;
  }

  // ---- joins ---------------------------------------------------------------------------------------

  /**
   * PACK and CONCATENATION as row copies: {@code outer} rows, input i contributes {@code rowBytes[i]}
   * bytes to each output row of {@code outRowBytes}.
   */
  public record Join(long outer, long[] rowBytes, long outRowBytes) {}

  public static Join join(Op op) {
    Tensor out = op.output();
    int axis = op.type() == OpType.PACK ? op.options(Options.Axis.class).axis() : op.options(Options.Concat.class).axis();
    int esize = out.dtype().byteSize();
    long outer = 1;
    for (int d = 0; d < axis; d++) outer *= out.dim(d);
    long[] rows = new long[op.inputs().size()];
    long total = 0;
    for (int i = 0; i < rows.length; i++) {
      Tensor t = op.input(i);
      if (t == null) throw new IllegalArgumentException("input " + i + " is missing");
      if (t.dtype() != out.dtype()) throw new IllegalArgumentException("input " + i + " '" + t.name() + "' is " + t.dtype() + " but the output is " + out.dtype());
      rows[i] = outer == 0 ? 0 : t.elements() / Math.max(1, outer) * esize;
      if (outer > 0 && t.elements() % outer != 0) {
        throw new IllegalArgumentException("input " + i + " " + Shape.toString(t.shape()) + " does not fit the output " + Shape.toString(out.shape()));
      }
      total += rows[i];
    }
    long outRow = outer == 0 ? 0 : out.byteSize() / outer;
    if (outer > 0 && total != outRow) {
      throw new IllegalArgumentException("the inputs give rows of " + total + " bytes but the output " + Shape.toString(out.shape()) + " has " + outRow);
    }
    return new Join(outer, rows, outRow);
  }

  // ---- index-driven ops ----------------------------------------------------------------------------

  /**
   * GATHER (and EMBEDDING_LOOKUP as GATHER on axis 0): output [batch][outer][coord][inner] is
   * params [batch][outer][index[batch][coord]][inner].
   */
  public record Gather(long batch, long outer, long axisSize, long coords, long innerBytes) {}

  public static Gather gather(Op op) {
    Tensor params = data(op);
    Tensor indices = op.type() == OpType.EMBEDDING_LOOKUP ? op.input(0) : op.input(1);
    int axis = op.type() == OpType.EMBEDDING_LOOKUP ? 0 : op.options(Options.Gather.class).axis();
    int batchDims = op.type() == OpType.EMBEDDING_LOOKUP ? 0 : op.options(Options.Gather.class).batchDims();
    if (batchDims < 0) batchDims += indices.rank();
    if (indices.dtype() != DType.INT32 && indices.dtype() != DType.INT64) {
      throw new IllegalArgumentException("the indices '" + indices.name() + "' are " + indices.dtype() + "; expected int32 or int64");
    }
    if (batchDims < 0 || batchDims > axis || batchDims > indices.rank()) {
      throw new IllegalArgumentException("batch_dims " + batchDims + " must be in [0, min(axis " + axis + ", indices rank " + indices.rank() + ")]");
    }
    int[] p = params.shape();
    int[] ix = indices.shape();
    if (axis < 0 || axis >= p.length) {
      throw new IllegalArgumentException("axis " + axis + " is outside the params' rank " + p.length + " (the params must have rank >= 1)");
    }
    long batch = 1;
    for (int d = 0; d < batchDims; d++) {
      if (p[d] != ix[d]) throw new IllegalArgumentException("params and indices differ in batch dimension " + d);
      batch *= p[d];
    }
    long outer = 1;
    for (int d = batchDims; d < axis; d++) outer *= p[d];
    long coords = 1;
    for (int d = batchDims; d < ix.length; d++) coords *= ix[d];
    long inner = 1;
    for (int d = axis + 1; d < p.length; d++) inner *= p[d];
    int[] expected = new int[p.length - 1 + ix.length - batchDims];
    int k = 0;
    for (int d = 0; d < axis; d++) expected[k++] = p[d];
    for (int d = batchDims; d < ix.length; d++) expected[k++] = ix[d];
    for (int d = axis + 1; d < p.length; d++) expected[k++] = p[d];
    if (op.type() == OpType.EMBEDDING_LOOKUP ? op.output().elements() != Shape.elements(expected) : !Arrays.equals(expected, op.output().shape())) {
      throw new IllegalArgumentException("the output " + Shape.toString(op.output().shape()) + " is not the gathered shape " + Shape.toString(expected));
    }
    return new Gather(batch, outer, p[axis], coords, inner * params.dtype().byteSize());
  }

  /** GATHER_ND: {@code count} index vectors of {@code depth} entries, each picking a slice of {@code sliceBytes}. */
  public record GatherNd(long count, int depth, long[] dims, long[] strides, long sliceBytes) {}

  public static GatherNd gatherNd(Op op) {
    Tensor params = op.input(0);
    Tensor indices = op.input(1);
    if (indices.dtype() != DType.INT32 && indices.dtype() != DType.INT64) {
      throw new IllegalArgumentException("the indices '" + indices.name() + "' are " + indices.dtype() + "; expected int32 or int64");
    }
    int[] p = params.shape();
    int[] ix = indices.shape();
    if (ix.length == 0) throw new IllegalArgumentException("the indices are a scalar; GATHER_ND needs at least rank 1");
    int depth = ix[ix.length - 1];
    if (depth > p.length) throw new IllegalArgumentException("index depth " + depth + " exceeds the params rank " + p.length);
    long count = 1;
    for (int d = 0; d < ix.length - 1; d++) count *= ix[d];
    long slice = 1;
    for (int d = depth; d < p.length; d++) slice *= p[d];
    long[] stride = Walk.strides(p);
    long[] dims = new long[depth];
    long[] st = new long[depth];
    for (int d = 0; d < depth; d++) {
      dims[d] = p[d];
      st[d] = stride[d] * params.dtype().byteSize();
    }
    if (op.output().elements() != count * slice) {
      throw new IllegalArgumentException("the output " + Shape.toString(op.output().shape()) + " does not hold " + count + " slices of " + slice);
    }
    return new GatherNd(count, depth, dims, st, slice * params.dtype().byteSize());
  }

  /** The broadcast of two shapes (BROADCAST_ARGS), or an exception naming the clash. */
  public static long[] broadcastShapes(long[] a, long[] b) {
    int n = Math.max(a.length, b.length);
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      long x = i < n - a.length ? 1 : a[i - (n - a.length)];
      long y = i < n - b.length ? 1 : b[i - (n - b.length)];
      if (x != y && x != 1 && y != 1) throw new IllegalArgumentException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b) + " do not broadcast");
      out[i] = x == 1 ? y : x;
    }
    return out;
  }
}
