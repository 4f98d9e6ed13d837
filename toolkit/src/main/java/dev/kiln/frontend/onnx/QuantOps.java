package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import java.util.Arrays;

/**
 * QuantizeLinear and DequantizeLinear (onnx-format.md section 5, QDQ in section 6). Constants are
 * folded (a dequantized weight keeps its integer codes for the integer kernels). On activations
 * only per-tensor parameters and int8/uint8 are compiled; uint8 activations are kept as int8 with
 * the codes and zero point shifted by -128 (exact), so every integer kernel sees int8.
 * DequantizeLinear of an activation stays lazy ({@link Value#dequantized}): a quantized consumer
 * reads the codes, a float consumer gets a DEQUANTIZE op.
 */
final class QuantOps {
  /** QuantizeLinear rounds x / scale half to even; requantization is DequantizeLinear then QuantizeLinear in float32. */
  static final Options ONNX_ROUNDING = new Options.Quantize(true);

  private QuantOps() {}

  /** Scales and zero points along {@code axis} (-1 = per tensor) and the quantized type. */
  record Params(float[] scales, long[] zeroPoints, int axis, DType type) {
    Quantization int8Quantization() {
      long shift = type == DType.UINT8 ? 128 : 0;
      return Quantization.perTensor(scales[0], zeroPoints[0] - shift);
    }
  }

  /**
   * The parameters of a QuantizeLinear ({@code quantize}) or DequantizeLinear node; null when
   * {@code lenient} and they are not constants (so the node cannot be fused).
   */
  static Params params(GraphLowering l, Proto.Node n, boolean lenient) throws ModelFormatException {
    Value scale = l.input(n, 1, "scale");
    Value zero = l.optional(n, 2);
    if (!scale.isConstant() || zero != null && !zero.isConstant()) {
      if (lenient) return null;
      throw l.error(n, "its scale and zero point must be constants (initializers or Constant nodes)");
    }
    Attrs a = l.attrs(n);
    if (a.i("block_size", 0) != 0) {
      if (lenient) return null;
      throw l.error(n, "uses blocked quantization (block_size " + a.i("block_size", 0) + "), which Kiln does not compile");
    }
    // opset 23: QuantizeLinear's precision (of x / scale) and DequantizeLinear's output_dtype; Kiln computes in float32
    int precision = a.int32("precision", 0);
    if (n.opType().equals("QuantizeLinear") && precision != 0 && precision != 1) {
      if (lenient) return null;
      throw l.error(n, "asks for precision " + TensorDecoder.typeName(precision) + "; Kiln quantizes in float32 (precision 0 or FLOAT)");
    }
    int outType = a.int32("output_dtype", 0);
    if (n.opType().equals("DequantizeLinear") && outType != 0 && outType != 1) {
      if (lenient) return null;
      throw l.error(n, "dequantizes to " + TensorDecoder.typeName(outType) + "; Kiln dequantizes to float32");
    }
    float[] s = scale.constant.floats();
    if (scale.constant.dtype() != DType.FLOAT32) {
      if (lenient) return null;
      throw l.error(n, "its scale is " + scale.constant.dtype() + "; Kiln compiles float32 scales");
    }
    DType type;
    long[] z;
    if (zero != null) {
      type = zero.constant.dtype();
      z = zero.constant.longs();
      if (z.length != s.length) {
        if (lenient) return null;
        throw l.error(n, "has " + s.length + " scale(s) but " + z.length + " zero point(s)");
      }
    } else {
      z = new long[s.length];
      int out = a.int32("output_dtype", 0);
      // without a zero point QuantizeLinear makes uint8 (or output_dtype, opset 21); DequantizeLinear reads the input's type
      type = !n.opType().equals("QuantizeLinear") ? null : out == 0 ? DType.UINT8 : TensorDecoder.dtype(out);
    }
    int axis = s.length > 1 ? a.int32("axis", 1) : -1;
    if (s.length > 1 && l.opset < 13) {
      if (lenient) return null;
      throw l.error(n, "has " + s.length + " scales, but per-axis quantization needs opset 13 (the model imports " + l.opset + ")");
    }
    return new Params(s, z, axis, type);
  }

  static void quantize(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "input");
    Params p = params(l, n, false);
    String out = GraphLowering.output(n, 0);
    if (p.type != DType.INT8 && p.type != DType.UINT8) {
      throw l.error(n, "quantizes to " + p.type + "; Kiln compiles int8 and uint8 quantization");
    }
    if (x.isConstant()) {
      l.define(n, out, Value.constant(out, quantizeConstant(l, n, x.constant, p)));
      return;
    }
    if (p.scales.length > 1) {
      throw l.error(n, "quantizes the computed tensor '" + x.name + "' per axis (" + p.scales.length + " scales); Kiln compiles"
          + " per-tensor quantization of activations (per-axis only for constant weights)");
    }
    requireScale(l, n, p.scales[0]);
    Quantization q = p.int8Quantization();
    boolean uint8 = p.type == DType.UINT8;
    if (x.isDequantized()) {
      Value src = x.source;
      if (src.phys.quantization().equals(q)) {
        l.define(n, out, src.renamed(out).asUint8(uint8));
        return;
      }
      TensorRef t = l.newTensor(out, true, src.phys.shape(), DType.INT8, q);
      l.op(OpType.QUANTIZE, QuantOps.ONNX_ROUNDING, t, src.phys);
      l.define(n, out, Value.permuted(out, t, src.perm, src.shape).asUint8(uint8));
      return;
    }
    if (x.dtype != DType.FLOAT32) {
      throw l.error(n, "quantizes '" + x.name + "' of type " + x.dtype + "; Kiln compiles QuantizeLinear from float32");
    }
    TensorRef t = l.newTensor(out, true, x.phys.shape(), DType.INT8, q);
    l.op(OpType.QUANTIZE, QuantOps.ONNX_ROUNDING, t, x.phys);
    l.define(n, out, Value.permuted(out, t, x.perm, x.shape).asUint8(uint8));
  }

  static void dequantize(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "input");
    Params p = params(l, n, false);
    String out = GraphLowering.output(n, 0);
    DType type = x.uint8 ? DType.UINT8 : x.dtype;
    if (p.type != null && p.type != type) {
      throw l.error(n, "dequantizes " + type + " '" + x.name + "' with a " + p.type + " zero point; their types must match");
    }
    if (x.isConstant()) {
      l.define(n, out, Value.constant(out, dequantizeConstant(l, n, x.constant, p)));
      return;
    }
    if (type != DType.INT8 && type != DType.UINT8) {
      throw l.error(n, "dequantizes the computed " + type + " tensor '" + x.name + "'; Kiln compiles DequantizeLinear of"
          + " int8 and uint8 activations (int32 only for constant biases)");
    }
    if (p.scales.length > 1) {
      throw l.error(n, "dequantizes the computed tensor '" + x.name + "' per axis (" + p.scales.length + " scales); Kiln"
          + " compiles per-tensor quantization of activations (per-axis only for constant weights)");
    }
    requireScale(l, n, p.scales[0]);
    Params typed = new Params(p.scales, p.zeroPoints, -1, type);
    Quantization q = typed.int8Quantization();
    Value codes = x;
    if (x.dtype == DType.UINT8) {
      // a uint8 model input: label it, then shift it into int8 (exact)
      Quantization uq = Quantization.perTensor(p.scales[0], p.zeroPoints[0]);
      TensorRef labelled = l.reshape(x.phys, x.phys.shape(), x.name + "/quantized", false, uq);
      TensorRef t = l.newTensor(x.name + "/int8", false, x.phys.shape(), DType.INT8, q);
      l.op(OpType.QUANTIZE, QuantOps.ONNX_ROUNDING, t, labelled);
      codes = Value.permuted(x.name, t, x.perm, x.shape).asUint8(true);
    } else if (!x.phys.quantization().equals(q)) {
      // the same codes read with other parameters (or a model input without any): a view with new labels
      TensorRef t = l.reshape(x.phys, x.phys.shape(), x.name + "/quantized", false, q);
      codes = Value.permuted(x.name, t, x.perm, x.shape).asUint8(x.uint8);
    }
    l.define(n, out, Value.dequantized(out, codes));
  }

  private static void requireScale(GraphLowering l, Proto.Node n, float s) throws ModelFormatException {
    if (!(s > 0) || Float.isInfinite(s)) throw l.error(n, "has scale " + s + "; scales must be finite and positive");
  }

  /** The axis along which {@code p} varies for a tensor of rank {@code rank}, normalized; -1 per tensor. */
  private static int axis(GraphLowering l, Proto.Node n, Params p, int[] shape) throws ModelFormatException {
    if (p.scales.length == 1) return -1;
    int axis = p.axis < 0 ? p.axis + shape.length : p.axis;
    if (axis < 0 || axis >= shape.length || shape[axis] != p.scales.length) {
      throw l.error(n, "has " + p.scales.length + " scales along axis " + p.axis + " of a tensor of shape "
          + Arrays.toString(shape));
    }
    return axis;
  }

  /** Index of the scale for flat element {@code i}. */
  private static int channel(int[] shape, int axis, int i) {
    if (axis < 0) return 0;
    int inner = 1;
    for (int d = axis + 1; d < shape.length; d++) inner *= shape[d];
    return (i / inner) % shape[axis];
  }

  static Constant quantizeConstant(GraphLowering l, Proto.Node n, Constant x, Params p) throws ModelFormatException {
    int[] shape = x.shape();
    int axis = axis(l, n, p, shape);
    float[] v = x.floats();
    long[] q = new long[v.length];
    long lo = p.type == DType.INT8 ? -128 : 0;
    long hi = p.type == DType.INT8 ? 127 : 255;
    for (int i = 0; i < v.length; i++) {
      int c = channel(shape, axis, i);
      double r = Math.rint(v[i] / p.scales[c]) + p.zeroPoints[c];
      q[i] = (long) Math.max(lo, Math.min(hi, r));
    }
    return Constant.ofLongs(shape, p.type, q);
  }

  static Constant dequantizeConstant(GraphLowering l, Proto.Node n, Constant x, Params p) throws ModelFormatException {
    int[] shape = x.shape();
    int axis = axis(l, n, p, shape);
    long[] codes = x.longs();
    float[] v = new float[codes.length];
    for (int i = 0; i < codes.length; i++) {
      int c = channel(shape, axis, i);
      v[i] = (float) (codes[i] - p.zeroPoints[c]) * p.scales[c];
    }
    return Constant.ofFloats(shape, v).withQuantized(new Constant.Quantized(x, p.scales.clone(), p.zeroPoints.clone(), axis));
  }
}
