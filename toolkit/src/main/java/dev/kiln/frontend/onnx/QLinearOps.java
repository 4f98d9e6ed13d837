package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import java.util.Arrays;
import java.util.List;

/**
 * QDQ groups that onnxruntime fuses into an integer kernel, compiled as that kernel computes
 * (onnx-format.md section 6): {@code DequantizeLinear(a), DequantizeLinear(b) -> Add/Mul ->
 * QuantizeLinear} becomes an int8 ADD/MUL with {@link Options.QLinear} (QLinearAdd, QLinearMul); the
 * one-input groups ({@link #unaryGroup}) of GlobalAveragePool/AveragePool and Softmax become
 * {@link Options.QLinearPool} and {@link Options.QLinearSoftmax} ops (NnOps, MathOps), a MatMul of two
 * activations ({@link #matMulGroup}) an int8 BATCH_MATMUL with onnxruntime's requantization (BatchOps).
 *
 * <p>Which groups onnxruntime fuses, and in which 8-bit domain, is decided by its graph transformers
 * on x86-64, in this order: EnsureUniqueDQForNodeUnit gives every reader of a DequantizeLinear its own
 * copy; QDQS8ToU8Transformer then turns each int8 QuantizeLinear -> DequantizeLinear pair whose
 * QuantizeLinear has that one reader (and is no graph output) into uint8, zero point + 128; the QDQ
 * fusions then take a group only when its operands and output have one type. So an int8 value passed
 * from one op to exactly one other runs as uint8, a value read twice (a residual branch), a graph
 * input or output, or a constant stays int8, and a group mixing the two runs in float, as it does here.
 * The float32 arithmetic of the fused kernels depends on the domain (its zero points), so Kiln follows
 * the same decisions ({@link #ortUint8}).
 */
final class QLinearOps {
  private QLinearOps() {}

  /** An operand's int8 codes (a tensor value, or constant codes with {@code constant} set) and their quantization. */
  private record Operand(Value codes, Constant constant, Quantization q, boolean ortUint8) {}

  /**
   * Input {@code i} of {@code n} as the codes of the DequantizeLinear writing it (of an activation or of
   * a constant), or null when it is not one onnxruntime's fusion takes.
   */
  private static Operand operand(GraphLowering l, Proto.Node n, int i, Value v) throws ModelFormatException {
    Proto.Node dq = l.producer(n.input(i));
    if (dq == null || !dq.opType().equals("DequantizeLinear")) return null;
    if (v.isDequantized()) {
      Quantization q = v.source.phys.quantization();
      if (!q.isQuantized() || q.isPerChannel()) return null;
      return new Operand(v.source, null, q, ortUint8(l, dq, v.source.uint8));
    }
    if (!v.isConstant() || v.constant.quantized() == null || !v.constant.quantized().perTensor()) return null;
    Constant.Quantized cq = v.constant.quantized();
    DType t = cq.codes().dtype();
    if (t != DType.INT8 && t != DType.UINT8) return null;
    long shift = t == DType.UINT8 ? 128 : 0;
    long[] codes = cq.codes().longs();
    for (int k = 0; k < codes.length; k++) codes[k] -= shift;
    Constant c = Constant.ofLongs(cq.codes().shape(), DType.INT8, codes);
    // a constant's DequantizeLinear has no QuantizeLinear before it: it keeps its type
    return new Operand(null, c, Quantization.perTensor(cq.scales()[0], cq.zeroPoints()[0] - shift), shift != 0);
  }

  /**
   * True if onnxruntime computes on the codes written by DequantizeLinear {@code dq} in the uint8
   * domain: they are uint8, or int8 from a QuantizeLinear -> DequantizeLinear pair it converts.
   */
  static boolean ortUint8(GraphLowering l, Proto.Node dq, boolean uint8) throws ModelFormatException {
    if (uint8) return true;
    Proto.Node q = l.producer(dq.input(0));
    return q != null && q.opType().equals("QuantizeLinear") && convertedPair(l, q, dq);
  }

  /** True if onnxruntime computes on the codes of QuantizeLinear {@code q}'s output in the uint8 domain. */
  static boolean ortUint8Output(GraphLowering l, Proto.Node q, boolean uint8) throws ModelFormatException {
    if (uint8) return true;
    String codes = GraphLowering.output(q, 0);
    List<Proto.Node> readers = l.consumers(codes);
    return readers.size() == 1 && readers.get(0).opType().equals("DequantizeLinear") && convertedPair(l, q, readers.get(0));
  }

  /**
   * QDQS8ToU8Transformer's test of an int8 pair: the QuantizeLinear's only reader is the
   * DequantizeLinear, which has one reader itself (else it is copied per reader first) or is only a
   * graph output, and both have the same constant scalar zero point.
   */
  private static boolean convertedPair(GraphLowering l, Proto.Node q, Proto.Node dq) throws ModelFormatException {
    String codes = GraphLowering.output(q, 0);
    String out = GraphLowering.output(dq, 0);
    if (codes == null || out == null || !codes.equals(dq.input(0))) return false;
    if (l.isGraphOutput(codes) || l.consumers(codes).size() != 1) return false;
    // one reader, or none when the dequantized value is a graph output (a graph output that is also read is copied)
    int readers = l.consumers(out).size();
    if (l.isGraphOutput(out) ? readers != 0 : readers != 1) return false;
    if (q.input(2) == null || dq.input(2) == null) return false;
    QuantOps.Params pq = QuantOps.params(l, q, true);
    QuantOps.Params pd = QuantOps.params(l, dq, true);
    return pq != null && pd != null && pq.type() == DType.INT8 && pd.type() == DType.INT8 && pq.zeroPoints().length == 1
        && pd.zeroPoints().length == 1 && pq.zeroPoints()[0] == pd.zeroPoints()[0];
  }

  /**
   * Add or Mul of two dequantized operands whose only reader is a QuantizeLinear, as onnxruntime's
   * QLinearAdd/QLinearMul; false (nothing emitted) when the group is not one onnxruntime fuses.
   */
  static boolean binary(GraphLowering l, Proto.Node n, OpType type, Value a, Value b) throws ModelFormatException {
    if (type != OpType.ADD && type != OpType.MUL || !a.isDequantized() && !b.isDequantized()) return false;
    Operand x = operand(l, n, 0, a);
    Operand y = operand(l, n, 1, b);
    if (x == null || y == null) return false;
    String out = GraphLowering.output(n, 0);
    GraphLowering.Epilogue e = l.epilogue(out, 0);
    if (e.quantize() == null || !e.nodes().isEmpty()) return false;
    QuantOps.Params p = QuantOps.params(l, e.quantize(), false);
    boolean uint8 = p.type() == DType.UINT8;
    boolean domain = ortUint8Output(l, e.quantize(), uint8);
    if (x.ortUint8 != domain || y.ortUint8 != domain) return false;
    int[] shape = MathOps.broadcast(a.shape, b.shape);
    if (shape == null) return false;
    int r = shape.length;
    int[] q = null;
    if (r == 4 && (x.codes != null && GraphLowering.isNhwc(x.codes) || y.codes != null && GraphLowering.isNhwc(y.codes))) {
      q = GraphLowering.NHWC;
    } else if (x.codes != null && y.codes != null && x.codes.perm != null && Arrays.equals(x.codes.perm, y.codes.perm)
        && x.codes.isPlainPermutation() && y.codes.isPlainPermutation() && Arrays.equals(a.shape, b.shape)) {
      q = Value.inverse(x.codes.perm);
    }
    TensorRef ta = tensor(l, x, a, r, q);
    TensorRef tb = tensor(l, y, b, r, q);
    String name = GraphLowering.output(e.quantize(), 0);
    int[] phys = q == null ? shape : Value.permute(shape, q);
    TensorRef t = l.newTensor(name, true, phys, DType.INT8, p.int8Quantization());
    l.op(type, new Options.QLinear(domain, type == OpType.ADD && firstIsBroadcastInside(a.shape, b.shape, shape)), t, ta, tb);
    l.take(List.of(e.quantize()));
    l.define(n, name, Value.permuted(name, t, q == null ? null : Value.inverse(q), shape).asUint8(uint8));
    return true;
  }

  /** A one-input QDQ group onnxruntime fuses: its QuantizeLinear, that node's parameters and the compute domain. */
  record Group(Proto.Node quantize, QuantOps.Params out, boolean uint8Domain) {
    String output() { return GraphLowering.output(quantize, 0); }

    Quantization quantization() { return out.int8Quantization(); }

    /** The output's ONNX type is uint8 (stored minus 128). */
    boolean uint8Type() { return out.type() == DType.UINT8; }

    void take(GraphLowering l) { l.take(List.of(quantize)); }
  }

  /**
   * The group {@code DequantizeLinear -> n -> QuantizeLinear} around input 0 of {@code n} (per-tensor
   * parameters, the QuantizeLinear its only reader, both sides in one domain), or null when
   * onnxruntime leaves it in float.
   */
  static Group unaryGroup(GraphLowering l, Proto.Node n, Value x) throws ModelFormatException {
    if (!x.isDequantized()) return null;
    Proto.Node dq = l.producer(n.input(0));
    if (dq == null || !dq.opType().equals("DequantizeLinear")) return null;
    Quantization q = x.source.phys.quantization();
    if (!q.isQuantized() || q.isPerChannel()) return null;
    GraphLowering.Epilogue e = l.epilogue(GraphLowering.output(n, 0), 0);
    if (e.quantize() == null || !e.nodes().isEmpty()) return null;
    QuantOps.Params p = QuantOps.params(l, e.quantize(), false);
    boolean domain = ortUint8Output(l, e.quantize(), p.type() == DType.UINT8);
    if (ortUint8(l, dq, x.source.uint8) != domain) return null;
    return new Group(e.quantize(), p, domain);
  }

  /**
   * The group {@code DequantizeLinear(a), DequantizeLinear(b) -> MatMul -> QuantizeLinear} of two
   * activations that onnxruntime fuses into QLinearMatMul, or null. On x86-64 it multiplies two
   * activations only in the uint8 domain (int8 by int8 runs in float there, as it does here).
   */
  static Group matMulGroup(GraphLowering l, Proto.Node n, Value a, Value b) throws ModelFormatException {
    if (!a.isDequantized() || !b.isDequantized()) return null;
    Operand x = operand(l, n, 0, a);
    Operand y = operand(l, n, 1, b);
    if (x == null || y == null || !x.ortUint8 || !y.ortUint8) return null;
    GraphLowering.Epilogue e = l.epilogue(GraphLowering.output(n, 0), 0);
    if (e.quantize() == null || !e.nodes().isEmpty()) return null;
    QuantOps.Params p = QuantOps.params(l, e.quantize(), false);
    if (!ortUint8Output(l, e.quantize(), p.type() == DType.UINT8)) return null;
    return new Group(e.quantize(), p, true);
  }

  /** The operand's codes as an int8 tensor of rank {@code r} in the layout {@code q}, labelled with its quantization. */
  private static TensorRef tensor(GraphLowering l, Operand o, Value v, int r, int[] q) {
    if (o.codes != null) return l.layout(MathOps.expand(o.codes, r), q);
    int[] s = MathOps.expand(v, r).shape;
    Constant c = o.constant.reshape(s);
    if (q != null) c = c.transpose(q);
    return l.constantTensor(v.name + "/codes", c, o.q);
  }

  /**
   * True if onnxruntime runs QLinearAdd with its inputs exchanged: its broadcaster hands the kernel
   * spans of the innermost axis that is not 1 in the output, with the first input as one scalar per
   * span when that input is broadcast along it (or when the output is one element), and the kernel
   * then takes the other input first.
   */
  static boolean firstIsBroadcastInside(int[] a, int[] b, int[] out) {
    for (int d = out.length - 1; d >= 0; d--) {
      if (out[d] == 1) continue;
      int i = d - (out.length - a.length);
      return i < 0 || a[i] == 1;
    }
    return true;
  }
}
