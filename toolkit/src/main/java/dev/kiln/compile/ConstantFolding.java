package dev.kiln.compile;

import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Compile-time folding, before memory planning: every op whose inputs are all constants (SHAPE
 * only needs a static shape) is evaluated here in Java and its outputs become constants, so none
 * of it reaches the device. Ops run in order, so a chain (Keras 3's SHAPE -> STRIDED_SLICE -> PACK
 * -> RESHAPE for every Reshape/Flatten) folds in one pass. A RESHAPE, EXPAND_DIMS or SQUEEZE whose
 * shape or axis input became constant drops that input and stays a plain view.
 *
 * <p>The evaluator covers shape and index arithmetic (int32/int64), data movement on any dtype (by
 * bytes, quantization unchanged) and ADD/SUB/MUL on unquantized constants. An op it cannot
 * evaluate, or whose outputs are model outputs, is left for the device.
 */
public final class ConstantFolding {
  private ConstantFolding() {}

  /** The folded graph and how many ops were folded away. */
  public record Result(Graph graph, int folded) {}

  public static Result fold(Graph graph) {
    Map<Tensor, byte[]> values = new HashMap<>();
    for (Tensor t : graph.tensors()) if (t.isConstant()) values.put(t, t.data());
    Map<Tensor, byte[]> folded = new HashMap<>();
    List<Op> kept = new ArrayList<>();
    // dynamic shapes are re-derived on the way, so a SHAPE or RESHAPE further on sees the real ones
    Map<Tensor, Tensor> reshaped = new HashMap<>();
    for (Op source : graph.ops()) {
      Op op = ShapeInference.resolve(source, reshaped, values);
      boolean modelOutput = source.outputs().stream().anyMatch(graph.outputs()::contains);
      byte[][] out = !modelOutput && canFold(op, graph, values) ? evaluate(op, values) : null;
      if (out == null) {
        kept.add(op);
        continue;
      }
      for (int j = 0; j < out.length; j++) {
        values.put(op.outputs().get(j), out[j]);
        folded.put(op.outputs().get(j), out[j]);
      }
    }
    List<Op> views = new ArrayList<>();
    for (Op op : kept) views.add(op.type().isView() && op.inputs().size() > 1 ? dropShapeInput(op, values) : op);
    if (folded.isEmpty() && views.equals(kept) && reshaped.isEmpty()) return new Result(graph, 0);
    Graph g = reshaped.isEmpty() ? graph : graph.withTensors(reshaped);
    return new Result(g.withConstants(folded, views), graph.ops().size() - kept.size());
  }

  private static boolean canFold(Op op, Graph graph, Map<Tensor, byte[]> values) {
    for (Tensor t : op.outputs()) if (graph.outputs().contains(t)) return false;
    if (op.type() == OpType.SHAPE) return !op.input(0).hasDynamicShape();
    for (Tensor t : op.inputs()) if (t != null && !values.containsKey(t)) return false;
    return true;
  }

  /** A view keeps only its data input once the shape/axis input is known (its value is already in the output shape). */
  private static Op dropShapeInput(Op op, Map<Tensor, byte[]> values) {
    for (int i = 1; i < op.inputs().size(); i++) {
      Tensor t = op.input(i);
      if (t != null && !values.containsKey(t)) return op;
    }
    return new Op(op.index(), op.type(), List.of(op.input(0)), op.outputs(), op.options());
  }

  /** The outputs' bytes, or null if this op is not evaluated at compile time. */
  private static byte[][] evaluate(Op op, Map<Tensor, byte[]> values) {
    try {
      Map<Tensor, Tensor> constants = new HashMap<>();
      List<Tensor> ins = new ArrayList<>();
      for (Tensor t : op.inputs()) {
        if (t == null || t.isConstant() || !values.containsKey(t)) ins.add(t);
        else ins.add(constants.computeIfAbsent(t, k -> k.toBuilder().data(values.get(k)).build()));
      }
      Op c = new Op(op.index(), op.type(), ins, op.outputs(), op.options());
      switch (op.type()) {
        case SHAPE: return new byte[][] {shape(c)};
        case RESHAPE: case EXPAND_DIMS: case SQUEEZE: return new byte[][] {sameBytes(c)};
        case SLICE: case STRIDED_SLICE: case REVERSE_V2: case TILE: case BROADCAST_TO: case TRANSPOSE:
          return new byte[][] {walk(c)};
        case SPLIT: case SPLIT_V: case UNPACK: return parts(c);
        case PACK: case CONCATENATION: return new byte[][] {join(c)};
        case GATHER: return new byte[][] {gather(c)};
        case EMBEDDING_LOOKUP:
          // a hybrid lookup (int8 table, float32 rows) converts values: the device kernel does that, bytes cannot
          return c.input(1).dtype() == c.output().dtype() ? new byte[][] {gather(c)} : null;
        case GATHER_ND: return new byte[][] {gatherNd(c)};
        case DYNAMIC_UPDATE_SLICE: return new byte[][] {dynamicUpdateSlice(c)};
        case BROADCAST_ARGS: return new byte[][] {broadcastArgs(c)};
        case ADD: case SUB: case MUL: return new byte[][] {arithmetic(c)};
        case REDUCE_PROD: return new byte[][] {product(c)};
        default:
          // CAST's OpType belongs to another operator family; matched by name so this pass needs no change when it lands.
          return op.type().name().equals("CAST") ? new byte[][] {cast(c)} : null;
      }
    } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
      return null; // not foldable as written: the device kernel's check gives the user the reason
    }
  }

  // ---- shapes -------------------------------------------------------------------------------------

  private static byte[] shape(Op op) {
    Tensor out = op.output();
    int[] s = op.input(0).shape();
    if (out.elements() != s.length) throw new IllegalArgumentException("SHAPE output size");
    return integers(out.dtype(), Arrays.stream(s).asLongStream().toArray());
  }

  private static byte[] broadcastArgs(Op op) {
    long[] r = Movement.broadcastShapes(Movement.ints(op.input(0)), Movement.ints(op.input(1)));
    if (r.length != op.output().elements()) throw new IllegalArgumentException("BROADCAST_ARGS output size");
    return integers(op.output().dtype(), r);
  }

  // ---- data movement --------------------------------------------------------------------------------

  /** Moving bytes is exact only when input and output agree on dtype and quantization. */
  private static void requireSameEncoding(Tensor in, Tensor out) {
    if (in.dtype() != out.dtype() || !in.quantization().equals(out.quantization())) {
      throw new IllegalArgumentException("encoding changes");
    }
  }

  private static byte[] sameBytes(Op op) {
    Tensor in = op.input(0);
    requireSameEncoding(in, op.output());
    if (in.byteSize() != op.output().byteSize()) throw new IllegalArgumentException("size changes");
    return in.data();
  }

  private static byte[] walk(Op op) {
    Tensor in = op.input(0);
    requireSameEncoding(in, op.output());
    byte[] out = new byte[op.output().byteSize()];
    Movement.walk(op).copy(in.data(), out, 0, in.dtype().byteSize());
    return out;
  }

  private static byte[][] parts(Op op) {
    Tensor in = Movement.data(op);
    List<Walk> walks = Movement.parts(op);
    byte[][] out = new byte[walks.size()][];
    for (int j = 0; j < out.length; j++) {
      requireSameEncoding(in, op.outputs().get(j));
      out[j] = new byte[op.outputs().get(j).byteSize()];
      walks.get(j).copy(in.data(), out[j], 0, in.dtype().byteSize());
    }
    return out;
  }

  private static byte[] join(Op op) {
    if (op.type() == OpType.CONCATENATION && op.options(Options.Concat.class).activation() != Activation.NONE) {
      throw new IllegalArgumentException("fused activation");
    }
    for (Tensor t : op.inputs()) requireSameEncoding(t, op.output());
    Movement.Join j = Movement.join(op);
    byte[] out = new byte[op.output().byteSize()];
    long dst = 0;
    for (long row = 0; row < j.outer(); row++) {
      for (int i = 0; i < j.rowBytes().length; i++) {
        int n = (int) j.rowBytes()[i];
        System.arraycopy(op.input(i).data(), (int) (row * n), out, (int) dst, n);
        dst += n;
      }
    }
    return out;
  }

  private static byte[] gather(Op op) {
    Tensor params = Movement.data(op);
    requireSameEncoding(params, op.output());
    Tensor indices = op.type() == OpType.EMBEDDING_LOOKUP ? op.input(0) : op.input(1);
    Movement.Gather g = Movement.gather(op);
    long[] idx = Movement.ints(indices);
    byte[] src = params.data();
    byte[] out = new byte[op.output().byteSize()];
    int inner = (int) g.innerBytes();
    int dst = 0;
    for (long b = 0; b < g.batch(); b++) {
      for (long o = 0; o < g.outer(); o++) {
        for (long c = 0; c < g.coords(); c++) {
          long i = idx[(int) (b * g.coords() + c)];
          if (i < 0 || i >= g.axisSize()) throw new IllegalArgumentException("index out of range");
          System.arraycopy(src, (int) (((b * g.outer() + o) * g.axisSize() + i) * inner), out, dst, inner);
          dst += inner;
        }
      }
    }
    return out;
  }

  private static byte[] gatherNd(Op op) {
    Tensor params = op.input(0);
    requireSameEncoding(params, op.output());
    Movement.GatherNd g = Movement.gatherNd(op);
    long[] idx = Movement.ints(op.input(1));
    byte[] src = params.data();
    byte[] out = new byte[op.output().byteSize()];
    int slice = (int) g.sliceBytes();
    for (int k = 0; k < g.count(); k++) {
      long from = 0;
      for (int d = 0; d < g.depth(); d++) {
        long i = idx[k * g.depth() + d];
        if (i < 0 || i >= g.dims()[d]) throw new IllegalArgumentException("index out of range");
        from += i * g.strides()[d];
      }
      System.arraycopy(src, (int) from, out, k * slice, slice);
    }
    return out;
  }

  /** The update written into a copy of the operand at starts clamped so it fits (as XLA and TFLite do). */
  private static byte[] dynamicUpdateSlice(Op op) {
    Tensor operand = op.input(0);
    Tensor update = op.input(1);
    requireSameEncoding(operand, op.output());
    requireSameEncoding(update, op.output());
    long[] start = Movement.ints(op.input(2));
    int[] os = operand.shape();
    int[] us = update.shape();
    if (start.length != os.length || us.length != os.length) throw new IllegalArgumentException("rank");
    long[] stride = Walk.strides(os);
    long off = 0;
    for (int d = 0; d < os.length; d++) off += Math.max(0, Math.min(start[d], os[d] - us[d])) * stride[d];
    byte[] out = operand.data();
    byte[] upd = update.data();
    int e = operand.dtype().byteSize();
    long n = update.elements();
    int[] idx = new int[us.length];
    for (long k = 0; k < n; k++) {
      long pos = off;
      for (int d = 0; d < us.length; d++) pos += idx[d] * stride[d];
      System.arraycopy(upd, (int) (k * e), out, (int) (pos * e), e);
      for (int d = us.length - 1; d >= 0; d--) {
        if (++idx[d] < us[d]) break;
        idx[d] = 0;
      }
    }
    return out;
  }

  /**
   * CAST between unquantized float32, int8, int16, int32, int64 and bool as TFLite does it
   * (static_cast: float to int truncates toward zero; to bool is != 0; bool is 0 or 1).
   */
  private static byte[] cast(Op op) {
    Tensor in = op.input(0);
    Tensor out = op.output();
    if (in.quantization().isQuantized() || out.quantization().isQuantized() || in.elements() != out.elements()) {
      throw new IllegalArgumentException("not a plain cast");
    }
    ByteBuffer x = ByteBuffer.wrap(in.data()).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer r = ByteBuffer.allocate(out.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < in.elements(); i++) {
      double v;
      long n;
      switch (in.dtype()) {
        case FLOAT32: v = x.getFloat(i * 4); n = (long) v; break;
        case INT8: n = x.get(i); v = n; break;
        case BOOL: case UINT8: n = x.get(i) & 0xff; v = n; break;
        case INT16: n = x.getShort(i * 2); v = n; break;
        case INT32: n = x.getInt(i * 4); v = n; break;
        default: n = x.getLong(i * 8); v = n;
      }
      boolean isFloat = in.dtype() == DType.FLOAT32;
      switch (out.dtype()) {
        case FLOAT32: r.putFloat(i * 4, isFloat ? (float) v : (float) n); break;
        case BOOL: r.put(i, (byte) ((isFloat ? v != 0 : n != 0) ? 1 : 0)); break;
        case INT8: case UINT8: r.put(i, (byte) (isFloat ? (int) v : n)); break;
        case INT16: r.putShort(i * 2, (short) (isFloat ? (int) v : n)); break;
        case INT32: r.putInt(i * 4, isFloat ? (int) v : (int) n); break;
        default: r.putLong(i * 8, n);
      }
    }
    return r.array();
  }

  // ---- arithmetic -----------------------------------------------------------------------------------

  /** ADD/SUB/MUL of unquantized int32, int64 or float32 constants with numpy broadcasting (int wraps as in C). */
  /** REDUCE_PROD of int32/int64 constants (shape arithmetic: Keras' Tensordot multiplies dimensions). */
  private static byte[] product(Op op) {
    Tensor in = op.input(0);
    Tensor out = op.output();
    if ((in.dtype() != DType.INT32 && in.dtype() != DType.INT64) || out.dtype() != in.dtype()) {
      throw new IllegalArgumentException("not integer shape arithmetic");
    }
    int[] s = in.shape();
    boolean[] reduced = new boolean[s.length];
    for (int a : op.options(Options.Mean.class).axes()) reduced[a] = true;
    long[] v = Movement.ints(in);
    long[] r = new long[Math.toIntExact(out.elements())];
    Arrays.fill(r, 1);
    for (int i = 0; i < v.length; i++) {
      long o = 0;
      for (int d = 0, rest = i, stride = v.length; d < s.length; d++) {
        stride /= s[d];
        int coord = rest / stride;
        rest %= stride;
        if (!reduced[d]) o = o * s[d] + coord;
      }
      r[(int) o] = Math.multiplyExact(r[(int) o], v[i]);
    }
    return integers(out.dtype(), r);
  }

  private static byte[] arithmetic(Op op) {
    if (op.options(Options.Elementwise.class).activation() != Activation.NONE) throw new IllegalArgumentException("activation");
    Tensor a = op.input(0);
    Tensor b = op.input(1);
    Tensor out = op.output();
    DType t = out.dtype();
    if (a.dtype() != t || b.dtype() != t || out.quantization().isQuantized() || a.quantization().isQuantized()
        || b.quantization().isQuantized() || (t != DType.INT32 && t != DType.INT64 && t != DType.FLOAT32)) {
      throw new IllegalArgumentException("not plain arithmetic");
    }
    int e = t.byteSize();
    byte[] av = new byte[out.byteSize()];
    byte[] bv = new byte[out.byteSize()];
    Movement.walk(broadcast(a, out)).copy(a.data(), av, 0, e);
    Movement.walk(broadcast(b, out)).copy(b.data(), bv, 0, e);
    ByteBuffer x = ByteBuffer.wrap(av).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer y = ByteBuffer.wrap(bv).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer r = ByteBuffer.allocate(out.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < out.elements(); i++) {
      int at = i * e;
      switch (t) {
        case INT32: {
          int p = x.getInt(at), q = y.getInt(at);
          r.putInt(at, op.type() == OpType.ADD ? p + q : op.type() == OpType.SUB ? p - q : p * q);
          break;
        }
        case INT64: {
          long p = x.getLong(at), q = y.getLong(at);
          r.putLong(at, op.type() == OpType.ADD ? p + q : op.type() == OpType.SUB ? p - q : p * q);
          break;
        }
        default: {
          float p = x.getFloat(at), q = y.getFloat(at);
          r.putFloat(at, op.type() == OpType.ADD ? p + q : op.type() == OpType.SUB ? p - q : p * q);
        }
      }
    }
    return r.array();
  }

  /** A BROADCAST_TO op of {@code in} to {@code out}'s shape, only to reuse its walk. */
  private static Op broadcast(Tensor in, Tensor out) {
    return new Op(0, OpType.BROADCAST_TO, List.of(in), List.of(out), new Options.None());
  }

  private static byte[] integers(DType dtype, long[] v) {
    if (dtype != DType.INT32 && dtype != DType.INT64) throw new IllegalArgumentException("integer output expected");
    ByteBuffer b = ByteBuffer.allocate(v.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      if (dtype == DType.INT32) b.putInt(Math.toIntExact(x));
      else b.putLong(x);
    }
    return b.array();
  }
}
