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
 * QuantizeLinear} becomes an int8 ADD/MUL with {@link Options.QLinear} (QLinearAdd, QLinearMul), when
 * both operands and the output have one 8-bit type and one scale each, as onnxruntime requires for
 * its fusion. Anything else stays in float between a DEQUANTIZE and a QUANTIZE, which is what
 * onnxruntime runs for it too.
 */
final class QLinearOps {
  private QLinearOps() {}

  /** An operand's int8 codes (a tensor value, or constant codes with {@code constant} set) and their quantization. */
  private record Operand(Value codes, Constant constant, Quantization q, boolean uint8) {}

  /** The codes under a DequantizeLinear (of an activation or of a constant), or null. */
  private static Operand operand(Value v) {
    if (v.isDequantized()) {
      Quantization q = v.source.phys.quantization();
      if (!q.isQuantized() || q.isPerChannel()) return null;
      return new Operand(v.source, null, q, v.source.uint8);
    }
    if (!v.isConstant() || v.constant.quantized() == null || !v.constant.quantized().perTensor()) return null;
    Constant.Quantized cq = v.constant.quantized();
    DType t = cq.codes().dtype();
    if (t != DType.INT8 && t != DType.UINT8) return null;
    long shift = t == DType.UINT8 ? 128 : 0;
    long[] codes = cq.codes().longs();
    for (int i = 0; i < codes.length; i++) codes[i] -= shift;
    Constant c = Constant.ofLongs(cq.codes().shape(), DType.INT8, codes);
    return new Operand(null, c, Quantization.perTensor(cq.scales()[0], cq.zeroPoints()[0] - shift), shift != 0);
  }

  /**
   * Add or Mul of two dequantized operands whose only reader is a QuantizeLinear, as onnxruntime's
   * QLinearAdd/QLinearMul; false (nothing emitted) when the group is not one onnxruntime fuses.
   */
  static boolean binary(GraphLowering l, Proto.Node n, OpType type, Value a, Value b) throws ModelFormatException {
    if (type != OpType.ADD && type != OpType.MUL || !a.isDequantized() && !b.isDequantized()) return false;
    Operand x = operand(a);
    Operand y = operand(b);
    if (x == null || y == null) return false;
    String out = GraphLowering.output(n, 0);
    GraphLowering.Epilogue e = l.epilogue(out, 0);
    if (e.quantize() == null || !e.nodes().isEmpty()) return false;
    QuantOps.Params p = QuantOps.params(l, e.quantize(), false);
    boolean uint8 = p.type() == DType.UINT8;
    if (x.uint8 != uint8 || y.uint8 != uint8) return false;
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
    l.op(type, new Options.QLinear(uint8, type == OpType.ADD && firstIsBroadcastInside(a.shape, b.shape, shape)), t, ta, tb);
    l.take(List.of(e.quantize()));
    l.define(n, name, Value.permuted(name, t, q == null ? null : Value.inverse(q), shape).asUint8(uint8));
    return true;
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
