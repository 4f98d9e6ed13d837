package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The ai.onnx operators Kiln lowers, each to a function of its node: the table a reader of this
 * package starts from. Each was checked against the operator's ai.onnx versions through opset 28
 * (onnx 1.23: {@code onnx.defs.get_schema(op, version)}); versions that only add data types need
 * nothing, the others are read from {@link GraphLowering#opset}. Operators marked "constants only" are folded at import when every input is
 * known (shape arithmetic torch exports around Reshape) and refused otherwise.
 */
final class Operators {
  /** Lowers one node (or folds it); may take over the nodes after it (see {@link GraphLowering#epilogue}). */
  interface Lowerer {
    void lower(GraphLowering l, Proto.Node node) throws ModelFormatException;
  }

  static final Map<String, Lowerer> LOWERERS = new LinkedHashMap<>();
  /** Operators that only work when folded at compile time. */
  static final java.util.Set<String> CONSTANT_ONLY = new TreeSet<>(List.of("ConstantOfShape", "Range", "Shape"));

  static {
    LOWERERS.put("Conv", NnOps::conv);
    LOWERERS.put("MaxPool", NnOps::maxPool);
    LOWERERS.put("AveragePool", NnOps::averagePool);
    LOWERERS.put("GlobalAveragePool", NnOps::globalAveragePool);
    LOWERERS.put("GlobalMaxPool", NnOps::globalMaxPool);
    LOWERERS.put("BatchNormalization", NnOps::batchNormalization);
    LOWERERS.put("Gemm", DenseOps::gemm);
    LOWERERS.put("MatMul", DenseOps::matMul);
    LOWERERS.put("Add", MathOps::binary);
    LOWERERS.put("Sub", MathOps::binary);
    LOWERERS.put("Mul", MathOps::binary);
    LOWERERS.put("Div", EltwiseOps::div);
    LOWERERS.put("Relu", MathOps::unary);
    LOWERERS.put("Sigmoid", MathOps::unary);
    LOWERERS.put("Tanh", MathOps::unary);
    LOWERERS.put("Clip", EltwiseOps::clip);
    LOWERERS.put("Softmax", MathOps::softmax);
    LOWERERS.put("Flatten", ShapeOps::flatten);
    LOWERERS.put("Reshape", ShapeOps::reshape);
    LOWERERS.put("Squeeze", ShapeOps::squeeze);
    LOWERERS.put("Unsqueeze", ShapeOps::unsqueeze);
    LOWERERS.put("Transpose", ShapeOps::transpose);
    LOWERERS.put("Concat", ShapeOps::concat);
    LOWERERS.put("Identity", ShapeOps::identity);
    LOWERERS.put("Dropout", ShapeOps::dropout);
    LOWERERS.put("Constant", ShapeOps::constant);
    LOWERERS.put("Shape", ShapeOps::shape);
    LOWERERS.put("Gather", AxisOps::gather);
    LOWERERS.put("Cast", EltwiseOps::cast);
    LOWERERS.put("QuantizeLinear", QuantOps::quantize);
    LOWERERS.put("DequantizeLinear", QuantOps::dequantize);
    // onto existing kernels, and compile-time folding (issue 9, onnx-ops)
    LOWERERS.put("Pad", PadOps::pad);
    LOWERERS.put("ReduceMean", ReduceOps::reduceMean);
    LOWERERS.put("Sum", ReduceOps::variadic);
    LOWERERS.put("Mean", ReduceOps::variadic);
    LOWERERS.put("ConstantOfShape", FoldOps::constantOfShape);
    LOWERERS.put("Range", FoldOps::range);
    LOWERERS.put("ScatterND", FoldOps::scatterNd);
    CONSTANT_ONLY.add("ScatterND");
    LOWERERS.put("Slice", FoldOps::slice);
    LOWERERS.put("Einsum", DenseOps::einsum);
    // onto the TFLite-named math kernels (issue 9 item 5, onnx-map)
    LOWERERS.put("Exp", EltwiseOps::unary);
    LOWERERS.put("Log", EltwiseOps::unary);
    LOWERERS.put("Sqrt", EltwiseOps::unary);
    LOWERERS.put("Abs", EltwiseOps::unary);
    LOWERERS.put("Neg", EltwiseOps::unary);
    LOWERERS.put("Floor", EltwiseOps::unary);
    LOWERERS.put("Ceil", EltwiseOps::unary);
    LOWERERS.put("Round", EltwiseOps::unary);
    LOWERERS.put("Sin", EltwiseOps::unary);
    LOWERERS.put("Cos", EltwiseOps::unary);
    LOWERERS.put("Not", EltwiseOps::unary);
    LOWERERS.put("HardSwish", EltwiseOps::unary);
    LOWERERS.put("LeakyRelu", EltwiseOps::unary);
    LOWERERS.put("Elu", EltwiseOps::unary);
    LOWERERS.put("Gelu", EltwiseOps::unary);
    LOWERERS.put("Pow", EltwiseOps::binary);
    LOWERERS.put("Equal", EltwiseOps::binary);
    LOWERERS.put("Greater", EltwiseOps::binary);
    LOWERERS.put("GreaterOrEqual", EltwiseOps::binary);
    LOWERERS.put("Less", EltwiseOps::binary);
    LOWERERS.put("LessOrEqual", EltwiseOps::binary);
    LOWERERS.put("And", EltwiseOps::binary);
    LOWERERS.put("Or", EltwiseOps::binary);
    LOWERERS.put("PRelu", EltwiseOps::binary);
    LOWERERS.put("Max", EltwiseOps::binary);
    LOWERERS.put("Min", EltwiseOps::binary);
    LOWERERS.put("Reciprocal", EltwiseOps::reciprocal);
    LOWERERS.put("HardSigmoid", EltwiseOps::hardSigmoid);
    LOWERERS.put("Selu", EltwiseOps::selu);
    LOWERERS.put("Where", EltwiseOps::where);
    LOWERERS.put("ReduceMax", ReduceOps::reduceMean);
    LOWERERS.put("ReduceMin", ReduceOps::reduceMean);
    LOWERERS.put("ReduceSum", ReduceOps::reduceMean);
    LOWERERS.put("ArgMax", AxisOps::argMinMax);
    LOWERERS.put("ArgMin", AxisOps::argMinMax);
    LOWERERS.put("DepthToSpace", AxisOps::depthSpace);
    LOWERERS.put("SpaceToDepth", AxisOps::depthSpace);
    LOWERERS.put("Split", AxisOps::split);
    // family: onnx (onnx-more): exporters' operators onto existing kernels (issue 9 item 5)
    LOWERERS.put("Expand", BroadcastOps::expand);
    LOWERERS.put("Tile", BroadcastOps::tile);
    LOWERERS.put("Resize", ResizeOps::resize);
    LOWERERS.put("Upsample", ResizeOps::resize);
    LOWERERS.put("ConvTranspose", ConvTransposeOps::convTranspose);
    LOWERERS.put("LRN", NormOps::lrn);
    LOWERERS.put("InstanceNormalization", NormOps::instanceNormalization);
    LOWERERS.put("LayerNormalization", NormOps::layerNormalization);
    LOWERERS.put("RMSNormalization", NormOps::rmsNormalization);
    LOWERERS.put("Size", ShapeOps::size);
    CONSTANT_ONLY.add("Size");
    LOWERERS.put("Erf", ActivationOps::erf);
    LOWERERS.put("CastLike", ActivationOps::castLike);
    LOWERERS.put("LSTM", RnnOps::lower);
    LOWERERS.put("GRU", RnnOps::lower);
    LOWERERS.put("RNN", RnnOps::lower);
    LOWERERS.put("Softplus", ActivationOps::softplus);
    LOWERERS.put("CumSum", ActivationOps::cumSum);
    LOWERERS.put("Mod", ActivationOps::mod);
    // family: onnx (onnx-ops2): GatherElements, TopK (issue 9 item 5)
    LOWERERS.put("GatherElements", GatherElementsOps::gatherElements);
    LOWERERS.put("TopK", TopKOps::topK);
  }

  private Operators() {}

  /** "Add, AveragePool, ...; constants only: Cast, Gather, Shape". */
  static String list() {
    TreeSet<String> runtime = new TreeSet<>(LOWERERS.keySet());
    runtime.removeAll(CONSTANT_ONLY);
    return String.join(", ", runtime) + " (and, on constants only: " + String.join(", ", CONSTANT_ONLY) + ")";
  }

  static boolean isSupported(Proto.Node n) {
    return (n.domain().isEmpty() || n.domain().equals("ai.onnx")) && LOWERERS.containsKey(n.opType());
  }

  static void lower(GraphLowering l, Proto.Node node) throws ModelFormatException {
    LOWERERS.get(node.opType()).lower(l, node);
  }

  // ---- shared by epilogue matching --------------------------------------------------------------

  /** The fused activation a Relu or a constant-bounded Clip is, or null. */
  static Activation activationOf(GraphLowering l, Proto.Node n) throws ModelFormatException {
    if (n.opType().equals("Relu")) return Activation.RELU;
    if (!n.opType().equals("Clip")) return null;
    float[] b = MathOps.clipBounds(l, n, false);
    if (b == null) return null;
    if (b[0] == 0f && b[1] == Float.POSITIVE_INFINITY) return Activation.RELU;
    if (b[0] == 0f && b[1] == 6f) return Activation.RELU6;
    if (b[0] == -1f && b[1] == 1f) return Activation.RELU_N1_TO_1;
    return null;
  }

  /** A BatchNormalization with constant parameters over {@code channels}, as scale and shift; else null. */
  static GraphLowering.Affine batchNormAffine(GraphLowering l, Proto.Node n, int channels) throws ModelFormatException {
    for (int i = 1; i <= 4; i++) {
      String name = n.input(i);
      if (name == null || !l.value(n, name).isConstant()) return null;
    }
    for (int j = 1; j < n.outputs().size(); j++) if (GraphLowering.output(n, j) != null) return null;
    if (l.attrs(n).i("training_mode", 0) != 0) return null;
    return NnOps.affine(l, n, channels);
  }

  /** True if {@code n} is a QuantizeLinear to int8/uint8 with one scale and zero point, all constant. */
  static boolean isPerTensorQuantize(GraphLowering l, Proto.Node n) throws ModelFormatException {
    QuantOps.Params p = QuantOps.params(l, n, true);
    return p != null && p.scales().length == 1 && (p.type() == DType.INT8 || p.type() == DType.UINT8);
  }
}
