package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import java.util.ArrayList;
import java.util.List;

/**
 * Gemm and MatMul as FULLY_CONNECTED (weights [units N, depth K], the input viewed as [rows, K]).
 * A constant B is oriented and scaled by alpha at import; a computed B is transposed at run time
 * into [N, K]. When A is a Flatten/Reshape of an NHWC tensor, the NCHW order of its columns is
 * folded into the weights instead of transposing the activation.
 */
final class DenseOps {
  private DenseOps() {}

  /** Constant weights oriented [N, K]: floats, and the integer codes when they came from DequantizeLinear. */
  private record Weights(Constant floats, Constant.Quantized quantized) {}

  static void gemm(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Attrs at = l.attrs(n);
    if (at.has("broadcast")) throw l.error(n, "uses the legacy 'broadcast' attribute of opset < 7; re-export with opset 11 or newer");
    Value a = l.input(n, 0, "A");
    Value b = l.input(n, 1, "B");
    Value c = l.optional(n, 2);
    float alpha = at.f("alpha", 1f);
    float beta = at.f("beta", 1f);
    boolean transA = at.i("transA", 0) != 0;
    boolean transB = at.i("transB", 0) != 0;
    if (a.rank() != 2 || b.rank() != 2) {
      throw l.error(n, "has A " + GraphLowering.shape(a.shape) + " and B " + GraphLowering.shape(b.shape) + "; Gemm takes 2-D matrices");
    }
    int m = transA ? a.shape[1] : a.shape[0];
    int k = transA ? a.shape[0] : a.shape[1];
    int kb = transB ? b.shape[1] : b.shape[0];
    int units = transB ? b.shape[0] : b.shape[1];
    if (k != kb) {
      throw l.error(n, "multiplies A " + GraphLowering.shape(a.shape) + (transA ? "^T" : "") + " by B " + GraphLowering.shape(b.shape)
          + (transB ? "^T" : "") + ": inner sizes " + k + " and " + kb + " differ");
    }
    if (a.isConstant()) throw l.error(n, "has a constant A; Kiln does not fold Gemm");
    if (transA) a = transposed(l, a);
    // C: a bias vector when it only varies along N, else an ADD after the product
    float[] bias = null;
    Constant biasConstant = null;
    Value post = null;
    if (c != null) {
      int[] cs = MathOps.broadcast(c.shape, new int[] {m, units});
      if (cs == null || cs[0] != m || cs[1] != units) {
        throw l.error(n, "has C of shape " + GraphLowering.shape(c.shape) + ", which does not broadcast to [" + m + "," + units + "]");
      }
      boolean vector = c.elements() == 1 || c.shape[c.rank() - 1] == units && c.elements() == units;
      if (c.isConstant() && vector) {
        float[] v = c.constant.floats();
        bias = new float[units];
        for (int u = 0; u < units; u++) bias[u] = beta * v[v.length == 1 ? 0 : u];
        biasConstant = beta == 1f ? c.constant : null;
      } else if (c.isConstant()) {
        float[] v = c.constant.floats();
        for (int i = 0; i < v.length; i++) v[i] *= beta;
        post = Value.constant(c.name + "/scaled", Constant.ofFloats(c.shape, v));
      } else if (beta != 1f) {
        Value scale = Value.constant(c.name + "/beta", Constant.ofFloats(new int[0], new float[] {beta}));
        post = MathOps.emitBinary(l, n, OpType.MUL, l.floatValue(c), scale, GraphLowering.output(n, 0) + "/beta_c", Activation.NONE);
      } else {
        post = c;
      }
    }
    if (!b.isConstant()) {
      if (alpha != 1f) {
        // alpha * (A B) = (alpha A) B: scale the rows before the product
        Value scale = Value.constant(n.inputs().get(0) + "/alpha", Constant.ofFloats(new int[0], new float[] {alpha}));
        a = MathOps.emitBinary(l, n, OpType.MUL, l.floatValue(a), scale, GraphLowering.output(n, 0) + "/alpha_a", Activation.NONE);
      }
      TensorRef w = l.layout(l.floatValue(b), transB ? null : new int[] {1, 0});
      floatDense(l, n, a, w, bias, post, new int[] {m, units});
      return;
    }
    Constant bf = b.constant;
    Weights w = weights(bf, transB, alpha);
    dense(l, n, a, w, bias, biasConstant, post, new int[] {m, units}, alpha == 1f && (c == null || beta == 1f));
  }

  static void matMul(GraphLowering l, Proto.Node n) throws ModelFormatException {
    matMul(l, n, l.input(n, 0, "A"), l.input(n, 1, "B"));
  }

  /**
   * Einsum in its matrix-product forms with a constant 2-D operand: {@code "...k,kn->...n"} (and
   * {@code "...k,nk->...n"}), i.e. the subscripts of A in order with its last one contracted
   * against B's. Other equations are refused in one line.
   */
  static void einsum(GraphLowering l, Proto.Node n) throws ModelFormatException {
    String eq = l.attrs(n).s("equation", "").replace(" ", "");
    String why = null;
    int arrow = eq.indexOf("->");
    String[] ops = (arrow < 0 ? eq : eq.substring(0, arrow)).split(",", -1);
    String out = arrow < 0 ? null : eq.substring(arrow + 2);
    if (ops.length != 2 || n.inputs().size() != 2) {
      why = "has " + ops.length + " operands";
    } else {
      Value a = l.input(n, 0, "first operand");
      Value b = l.input(n, 1, "second operand");
      String sa = ops[0];
      String sb = ops[1];
      if (!a.isConstant() && !b.isConstant()) {
        // family: onnx (onnx-ops2): both operands computed at run time
        why = EinsumOps.runtime(l, n, a, b, sa, sb, out);
        if (why == null) return;
      } else if (a.isConstant() && !b.isConstant()) {
        why = "has a constant first operand";
      } else if (!b.isConstant() || b.rank() != 2 || sb.length() != 2) {
        why = "has a second operand that is not a constant matrix";
      } else if (sa.isEmpty() || sa.contains(".") && !sa.startsWith("...")) {
        why = "has the first operand '" + sa + "'";
      } else {
        char k = sa.charAt(sa.length() - 1);
        char f = sb.charAt(0) == k ? sb.charAt(1) : sb.charAt(1) == k ? sb.charAt(0) : 0;
        String want = sa.substring(0, sa.length() - 1) + f;
        String body = sa.startsWith("...") ? sa.substring(3) : sa;
        boolean distinct = body.chars().distinct().count() == body.length() && f != 0 && f != k && body.indexOf(f) < 0;
        String implicit = null;
        if (out == null) {
          // implicit output: the subscripts seen once, sorted (an ellipsis first)
          StringBuilder once = new StringBuilder();
          String all = body + sb;
          all.chars().sorted().distinct().filter(ch -> all.indexOf(ch) == all.lastIndexOf(ch)).forEach(ch -> once.append((char) ch));
          implicit = (sa.startsWith("...") ? "..." : "") + once;
        }
        if (!distinct || !(out != null ? out : implicit).equals(want)) {
          why = "is not a matrix product of the first operand's last axis with a constant matrix";
        } else {
          int depth = a.shape[a.rank() - 1];
          Constant bc = b.constant;
          if (sb.charAt(0) != k) bc = bc.transpose(new int[] {1, 0}); // [N, K] -> [K, N]
          if (bc.shape()[0] != depth) throw l.error(n, "contracts " + depth + " with " + bc.shape()[0] + " values");
          if (sa.startsWith("...") && a.rank() < body.length()) why = "has fewer axes than its subscripts";
          else if (!sa.startsWith("...") && a.rank() != sa.length()) why = "has " + a.rank() + " axes for subscripts '" + sa + "'";
          else {
            matMul(l, n, a, Value.constant(n.inputs().get(1), bc));
            return;
          }
        }
      }
    }
    throw l.error(n, "has the equation '" + eq + "' and " + why + "; Kiln compiles Einsum's matrix-product forms with a constant"
        + " matrix (e.g. 'bik,kn->bin' or 'ik,nk->in') as FULLY_CONNECTED, and batched products of two computed operands"
        + " (e.g. 'bij,bjk->bik' or 'bhid,bhjd->bhij') as BATCH_MATMUL");
  }

  static void matMul(GraphLowering l, Proto.Node n, Value a, Value b) throws ModelFormatException {
    if (a.isConstant()) throw l.error(n, "has a constant A; Kiln does not fold MatMul (a constant A with a computed B is not compiled)");
    if (a.rank() == 0 || b.rank() == 0) throw l.error(n, "has a scalar operand; MatMul needs at least 1-D tensors");
    if (n.opType().equals("MatMul") && !b.isConstant() && BatchOps.qlinear(l, n, a, b)) return;
    int k = a.shape[a.rank() - 1];
    int kb = b.rank() == 1 ? b.shape[0] : b.shape[b.rank() - 2];
    if (k != kb) {
      throw l.error(n, "multiplies A " + GraphLowering.shape(a.shape) + " by B " + GraphLowering.shape(b.shape) + ": inner sizes "
          + k + " and " + kb + " differ");
    }
    int units = b.rank() == 1 ? 1 : b.shape[b.rank() - 1];
    for (int d = 0; d < b.rank() - 2; d++) {
      if (b.shape[d] != 1) {
        BatchOps.batchMatMul(l, n, a, b);
        return;
      }
    }
    // numpy.matmul: B's batch dimensions are all 1, so they only add leading 1s
    List<Integer> out = new ArrayList<>();
    int lead = Math.max(0, b.rank() - Math.max(a.rank(), 2));
    for (int d = 0; d < lead; d++) out.add(1);
    for (int d = 0; d < a.rank() - 1; d++) out.add(a.shape[d]);
    if (b.rank() > 1) out.add(units);
    int[] shape = out.stream().mapToInt(Integer::intValue).toArray();
    Value b2 = b.rank() == 2 ? b : b.rank() == 1 ? b.reshaped(b.name, new int[] {k, 1}) : b.reshaped(b.name, new int[] {k, units});
    if (!b2.isConstant()) {
      TensorRef w = l.layout(l.floatValue(b2), new int[] {1, 0});
      floatDense(l, n, a, w, null, null, shape);
      return;
    }
    dense(l, n, a, weights(b2.constant, false, 1f), null, null, null, shape, true);
  }

  /** A with its two axes swapped (free for a tensor: a new layout). */
  private static Value transposed(GraphLowering l, Value a) {
    if (a.isDequantized()) return Value.dequantized(a.name + "/transposed", transposedTensor(l, a.source));
    return transposedTensor(l, a);
  }

  private static Value transposedTensor(GraphLowering l, Value a) {
    int[] q = {1, 0};
    int[] shape = Value.permute(a.shape, q);
    if (a.isPlainPermutation()) return Value.permuted(a.name + "/transposed", a.phys, Value.compose(a.perm, q), shape).asUint8(a.uint8);
    TensorRef t = l.layout(a, null);
    return Value.permuted(a.name + "/transposed", t, q, shape).asUint8(a.uint8);
  }

  /** B oriented [N, K] (transposed unless {@code transB}), times alpha for the floats. */
  private static Weights weights(Constant b, boolean transB, float alpha) {
    Constant f = transB ? b : b.transpose(new int[] {1, 0});
    if (alpha != 1f) {
      float[] v = f.floats();
      for (int i = 0; i < v.length; i++) v[i] *= alpha;
      f = Constant.ofFloats(f.shape(), v);
    }
    Constant.Quantized q = b.quantized();
    Constant.Quantized oriented = null;
    if (q != null) {
      int axis = q.perTensor() ? -1 : transB ? q.axis() : 1 - q.axis();
      oriented = new Constant.Quantized(transB ? q.codes() : q.codes().transpose(new int[] {1, 0}), q.scales(), q.zeroPoints(), axis);
    }
    return new Weights(f, oriented);
  }

  /**
   * FULLY_CONNECTED with constant weights: integer when the node is a QDQ group that fits the int8
   * kernel, else float32 (with a following BatchNormalization folded in).
   */
  private static void dense(GraphLowering l, Proto.Node n, Value a, Weights w, float[] bias, Constant biasConstant, Value post,
                            int[] shape, boolean int8Allowed) throws ModelFormatException {
    String out = GraphLowering.output(n, 0);
    int units = w.floats.shape()[0];
    int depth = w.floats.shape()[1];
    GraphLowering.Epilogue e = post == null ? l.epilogue(out, shape.length == 2 ? units : 0) : GraphLowering.Epilogue.none(out);
    if (int8Allowed && post == null && w.quantized != null) {
      Constant withCodes = w.floats.withQuantized(w.quantized);
      NnOps.Int8 q = NnOps.int8Plan(l, n, a, withCodes, e, 0, true);
      if (q != null) {
        Input in = input(a.source, q.codes());
        TensorRef biasT = null;
        if (bias != null) {
          Constant b = biasConstant != null && biasConstant.elements() == units ? biasConstant : Constant.ofFloats(new int[] {units}, bias);
          biasT = NnOps.int32Bias(l, n.inputs().get(2), b, q, units);
        }
        TensorRef weights = l.constantTensor(n.inputs().get(1), in.weights, NnOps.weightQuantization(q, 0));
        String name = GraphLowering.output(e.quantize(), 0);
        TensorRef t = l.newTensor(name, true, shape, DType.INT8, q.out().int8Quantization());
        l.op(OpType.FULLY_CONNECTED, new Options.FullyConnected(e.activation(), false, false, Options.Requantize.ONNXRUNTIME),
            t, tensorOf(l, in), weights, biasT);
        List<Proto.Node> merged = new ArrayList<>(e.nodes());
        merged.add(e.quantize());
        l.take(merged);
        l.define(n, name, Value.tensor(name, t, shape).asUint8(q.out().type() == DType.UINT8));
        return;
      }
    }
    Value af = l.floatValue(a);
    NnOps.requireFloat(l, n, af);
    float[] wf = w.floats.floats();
    float[] bf = bias;
    if (e.affine() != null) {
      GraphLowering.Affine f = e.affine();
      for (int i = 0; i < wf.length; i++) wf[i] *= f.scale()[i / depth];
      float[] nb = new float[units];
      for (int u = 0; u < units; u++) nb[u] = ((bf == null ? 0f : bf[u]) - f.mean()[u]) * f.scale()[u] + f.beta()[u];
      bf = nb;
    }
    Input in = input(af, Constant.ofFloats(w.floats.shape(), wf));
    TensorRef weights = l.constantTensor(n.inputs().get(1), in.weights, Quantization.NONE);
    TensorRef x = tensorOf(l, in);
    if (post == null) {
      l.take(e.nodes());
      emitFloat(l, n, x, weights, bf, shape, e.beforeQuantize(), e.activation());
    } else {
      emitPost(l, n, x, weights, bf, post, shape);
    }
  }

  /** FULLY_CONNECTED float32 with weights computed at run time (already [N, K]). */
  private static void floatDense(GraphLowering l, Proto.Node n, Value a, TensorRef w, float[] bias, Value post,
                                 int[] shape) throws ModelFormatException {
    Value af = l.floatValue(a);
    NnOps.requireFloat(l, n, af);
    TensorRef x = l.layout(af, null);
    String out = GraphLowering.output(n, 0);
    if (post == null) {
      GraphLowering.Epilogue e = l.epilogue(out, 0);
      l.take(e.nodes());
      emitFloat(l, n, x, w, bias, shape, e.beforeQuantize(), e.activation());
    } else {
      emitPost(l, n, x, w, bias, post, shape);
    }
  }

  private static void emitFloat(GraphLowering l, Proto.Node n, TensorRef x, TensorRef w, float[] bias, int[] shape, String name,
                                Activation act) throws ModelFormatException {
    int units = w.shape()[0];
    TensorRef b = bias == null ? null : l.constantTensor(n.input(2) != null ? n.inputs().get(2) : name + "/bias",
        Constant.ofFloats(new int[] {units}, bias), Quantization.NONE);
    TensorRef t = l.newTensor(name, true, shape, DType.FLOAT32, Quantization.NONE);
    l.op(OpType.FULLY_CONNECTED, new Options.FullyConnected(act, false), t, x, w, b);
    l.define(n, name, Value.tensor(name, t, shape));
  }

  /** The product, then {@code + post} (C that is not a bias vector) with the fused activation on the sum. */
  private static void emitPost(GraphLowering l, Proto.Node n, TensorRef x, TensorRef w, float[] bias, Value post, int[] shape)
      throws ModelFormatException {
    String out = GraphLowering.output(n, 0);
    int units = w.shape()[0];
    TensorRef b = bias == null ? null : l.constantTensor(out + "/bias", Constant.ofFloats(new int[] {units}, bias), Quantization.NONE);
    TensorRef t = l.newTensor(out + "/product", false, shape, DType.FLOAT32, Quantization.NONE);
    l.op(OpType.FULLY_CONNECTED, new Options.FullyConnected(Activation.NONE, false), t, x, w, b);
    GraphLowering.Epilogue e = l.epilogue(out, 0);
    l.take(e.nodes());
    Value product = Value.tensor(t.name(), t, shape);
    Value sum = MathOps.emitBinary(l, n, OpType.ADD, product, l.floatValue(post), e.beforeQuantize(), e.activation());
    l.define(n, e.beforeQuantize(), sum);
  }

  /**
   * How A enters the op: as it is (a row-major tensor) or, when A is a Flatten/Reshape of a tensor
   * whose bytes are in another order with the rows outermost, its bytes as they are and the
   * weights' columns permuted to that order.
   */
  record Input(Value value, boolean asBytes, Constant weights) {}

  private static Input input(Value a, Constant weights) {
    if (a.isConstant() || a.phys == null || a.rank() != 2 || a.perm == null) return new Input(a, false, weights);
    int[] phys = a.phys.shape();
    if (a.perm[0] != 0 || phys[0] != a.shape[0] || a.shape[1] != weights.shape()[1]) return new Input(a, false, weights);
    int[] colMap = columnMap(phys, a.perm);
    int units = weights.shape()[0];
    int depth = weights.shape()[1];
    int e = weights.dtype().byteSize();
    byte[] src = weights.bytes();
    byte[] dst = new byte[src.length];
    for (int u = 0; u < units; u++) {
      for (int kp = 0; kp < depth; kp++) {
        System.arraycopy(src, (u * depth + colMap[kp]) * e, dst, (u * depth + kp) * e, e);
      }
    }
    return new Input(a, true, new Constant(weights.shape(), weights.dtype(), dst));
  }

  private static TensorRef tensorOf(GraphLowering l, Input in) {
    return in.asBytes ? in.value.phys : l.layout(in.value, null);
  }

  /** For each byte-order column k' of a row of {@code phys}, the logical (pre-permutation, row-major) column. */
  static int[] columnMap(int[] phys, int[] perm) {
    int r = phys.length;
    int[] pre = Value.permute(phys, perm);
    int depth = 1;
    for (int d = 1; d < r; d++) depth *= phys[d];
    int[] map = new int[depth];
    int[] idx = new int[r]; // physical multi-index, dims 1..r-1
    for (int kp = 0; kp < depth; kp++) {
      int k = 0;
      for (int i = 1; i < r; i++) k = k * pre[i] + idx[perm[i]];
      map[kp] = k;
      for (int d = r - 1; d >= 1; d--) {
        if (++idx[d] < phys[d]) break;
        idx[d] = 0;
      }
    }
    return map;
  }
}
