package dev.kiln.frontend.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import dev.kiln.testing.ReferenceModels;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * What the ONNX frontend makes of a model: NHWC inside with as few data movements as the model
 * allows, names kept, QDQ groups as integer kernels. Numerics are checked elsewhere
 * (ModelConformanceTest runs every fixture against onnxruntime's outputs).
 */
class LoweringTest {
  static Graph fixture(String name) throws Exception {
    return OnnxReader.read(Path.of("src/test/resources/onnx", name, "model.onnx"));
  }

  static List<OpType> types(Graph g) {
    return g.ops().stream().map(Op::type).collect(Collectors.toList());
  }

  static long count(Graph g, OpType t) {
    return g.ops().stream().filter(o -> o.type() == t).count();
  }

  @Test void theDigitsCnnMovesNoDataBetweenLayouts() throws Exception {
    Graph g = OnnxReader.read(ReferenceModels.shared("onnx", "onnx_digits_cnn").modelFile());
    // [1,1,8,8] NCHW is [1,8,8,1] NHWC byte for byte: a view; Flatten -> Gemm is folded into fc1's weights
    assertEquals(List.of(OpType.RESHAPE, OpType.CONV_2D, OpType.MAX_POOL_2D, OpType.CONV_2D, OpType.FULLY_CONNECTED,
        OpType.FULLY_CONNECTED, OpType.SOFTMAX), types(g));
    for (Op op : g.ops()) {
      if (op.type() == OpType.CONV_2D) assertEquals(Activation.RELU, op.options(Options.Conv.class).activation());
    }
    assertEquals(Activation.RELU, g.ops().get(4).options(Options.FullyConnected.class).activation());
    assertEquals("input:0", g.inputs().get(0).name());
    assertEquals("input_0", g.inputs().get(0).cName());
    assertArrayEquals(new int[] {1, 1, 8, 8}, g.inputs().get(0).shape());
    assertEquals("probs:0", g.outputs().get(0).name());
    assertEquals(39208, g.weightBytes());
  }

  @Test void anRgbCnnTransposesOnlyAtItsFourDimensionalInputAndOutput() throws Exception {
    Graph g = fixture("rgb_cnn");
    List<Op> transposes = g.ops().stream().filter(o -> o.type() == OpType.TRANSPOSE).toList();
    assertEquals(2, transposes.size());
    assertEquals("input", transposes.get(0).input(0).name());
    assertArrayEquals(new int[] {0, 2, 3, 1}, transposes.get(0).options(Options.Transpose.class).perm());
    assertEquals("features", transposes.get(1).output().name());
    assertArrayEquals(new int[] {0, 3, 1, 2}, transposes.get(1).options(Options.Transpose.class).perm());
    assertArrayEquals(new int[] {1, 4, 16, 16}, g.outputs().get(1).shape());
    assertEquals(List.of("probs", "features"), g.outputs().stream().map(Tensor::name).toList());
  }

  @Test void namesAreKeptExactlyAndTheirCSpellingsStayApart() throws Exception {
    Graph g = fixture("names_and_typed_data");
    // mlp/w.1 is listed as a graph input but is an initializer: a default value, not a runtime input
    assertEquals(List.of("x:0", "x_0"), g.inputs().stream().map(Tensor::name).toList());
    assertEquals(List.of("x_0_1", "x_0"), g.inputs().stream().map(Tensor::cName).toList());
    assertEquals(List.of("out:0", "out_0"), g.outputs().stream().map(Tensor::name).toList());
    assertEquals(List.of("out_0_1", "out_0"), g.outputs().stream().map(Tensor::cName).toList());
    assertTrue(g.find("mlp/input.1").isPresent());
    assertTrue(g.find("x:0").isPresent() && g.find("x_0_1").isPresent());
  }

  @Test void batchNormalizationAndReluFoldIntoTheConv() throws Exception {
    Graph g = fixture("conv_bn_relu");
    assertEquals(List.of(OpType.TRANSPOSE, OpType.CONV_2D, OpType.TRANSPOSE), types(g));
    assertEquals(Activation.RELU, g.ops().get(1).options(Options.Conv.class).activation());
  }

  @Test void clipZeroSixIsAFusedRelu6AndOtherBoundsAClamp() throws Exception {
    Graph g = fixture("conv_clip_relu6_and_clamp");
    Op conv = g.ops().stream().filter(o -> o.type() == OpType.CONV_2D).findFirst().orElseThrow();
    assertEquals(Activation.RELU6, conv.options(Options.Conv.class).activation());
    Op clamp = g.ops().stream().filter(o -> o.type() == OpType.CLAMP).findFirst().orElseThrow();
    assertEquals(new Options.Clamp(0.75f, Float.POSITIVE_INFINITY), clamp.options());
  }

  @Test void countIncludePadBecomesAnExplicitPadBeforeThePool() throws Exception {
    Graph g = fixture("avgpool_forms");
    assertEquals(2, count(g, OpType.PAD));
    for (Op op : g.ops()) {
      if (op.type() == OpType.PAD) assertEquals(OpType.AVERAGE_POOL_2D, g.consumers(op.output()).get(0).type());
    }
  }

  @Test void softmaxAlongTheChannelsOfAnNhwcTensorNeedsNoTranspose() throws Exception {
    Graph g = fixture("softmax_opset13_axes");
    // d = Softmax(conv, axis=1): channels are innermost in NHWC; e = Softmax(conv, axis=-2) needs H innermost
    Op d = g.producer(g.find("d").orElseThrow()).orElseThrow();
    assertEquals(OpType.TRANSPOSE, d.type()); // back to NCHW at the output
    assertEquals(OpType.SOFTMAX, g.producer(d.input(0)).orElseThrow().type());
    assertEquals(OpType.CONV_2D, g.producer(g.producer(d.input(0)).orElseThrow().input(0)).orElseThrow().type());
  }

  @Test void qdqConvAndGemmBecomeInt8KernelsWithPerChannelWeights() throws Exception {
    Graph g = fixture("qdq_cnn_s8");
    List<Op> convs = g.ops().stream().filter(o -> o.type() == OpType.CONV_2D).toList();
    assertEquals(2, convs.size());
    for (Op conv : convs) {
      assertEquals(Options.Requantize.ONNXRUNTIME, conv.options(Options.Conv.class).requantize());
      assertEquals(DType.INT8, conv.input(0).dtype());
      assertEquals(DType.INT8, conv.input(1).dtype());
      assertEquals(conv.output().dim(3), conv.input(1).quantization().count()); // one scale per output channel
      assertEquals(DType.INT32, conv.input(2).dtype());
      assertEquals(DType.INT8, conv.output().dtype());
    }
    List<Op> fcs = g.ops().stream().filter(o -> o.type() == OpType.FULLY_CONNECTED).toList();
    assertEquals(2, fcs.size());
    for (Op fc : fcs) assertEquals(DType.INT8, fc.input(0).dtype());
    // float only at the output: the softmax runs on the codes (onnxruntime's QLinearSoftmax)
    assertEquals(1, count(g, OpType.DEQUANTIZE));
    assertEquals(DType.INT8, g.ops().stream().filter(o -> o.type() == OpType.MAX_POOL_2D).findFirst().orElseThrow().output().dtype());
  }

  @Test void qdqAddAndMulRunAsOnnxruntimesQLinearKernelsOnTheCodes() throws Exception {
    Graph g = fixture("qdq_qlinear_all_codes");
    assertEquals(0, count(g, OpType.DEQUANTIZE) + count(g, OpType.QUANTIZE)); // codes in, codes out, nothing in float
    Map<String, Options.QLinear> byOutput = new HashMap<>();
    for (Op op : g.ops()) {
      if (op.type() == OpType.ADD || op.type() == OpType.MUL) byOutput.put(op.output().name(), op.options(Options.QLinear.class));
    }
    assertEquals(Set.of("add", "mul", "add_swapped", "add_column"), byOutput.keySet());
    // onnxruntime exchanges QLinearAdd's inputs when the first one is broadcast along the innermost axis
    assertTrue(byOutput.get("add_swapped").swapped());
    assertFalse(byOutput.get("add_column").swapped());
    assertFalse(byOutput.get("add").swapped());
    Graph u8 = fixture("qdq_qlinear_add_mul_u8");
    assertTrue(u8.ops().stream().filter(o -> o.type() == OpType.ADD).allMatch(o -> o.options(Options.QLinear.class).uint8()));
  }

  @Test void qLinearGroupsFollowOnnxruntimesUint8ConversionOfSingleReaderPairs() throws Exception {
    Graph g = fixture("qdq_qlinear_domains");
    Map<String, Op> byOutput = new HashMap<>();
    for (Op op : g.ops()) byOutput.put(op.output().name(), op);
    // pairs with one reader: onnxruntime computes in uint8, zero points + 128
    assertTrue(byOutput.get("qs").options(Options.QLinear.class).uint8());
    assertTrue(byOutput.get("qp").options(Options.QLinear.class).uint8());
    // a twice-read value or a constant stays int8; mixed with a uint8 pair the group runs in float
    assertTrue(byOutput.get("m").options() instanceof Options.Elementwise);
    assertEquals(DType.FLOAT32, byOutput.get("m").output().dtype());
    assertTrue(byOutput.get("mk").options() instanceof Options.Elementwise);
  }

  @Test void qdqPoolsSoftmaxAndMatMulRunAsOnnxruntimesIntegerKernels() throws Exception {
    Graph pools = fixture("qdq_qlinear_pools");
    List<Options.QLinearPool> q = pools.ops().stream().filter(o -> o.options() instanceof Options.QLinearPool)
        .map(o -> o.options(Options.QLinearPool.class)).toList();
    // in node order: GlobalAveragePool, AveragePool 3x3, AveragePool counting pads, AveragePool 7x7 of a 7x7 image, int8 one
    assertEquals(List.of(true, false, false, true, true), q.stream().map(Options.QLinearPool::global).toList());
    assertTrue(q.get(2).countIncludePad());
    assertEquals(List.of(true, true, true, true, false), q.stream().map(Options.QLinearPool::uint8).toList());
    // int8 in, converted uint8 out: onnxruntime runs it in float, so does Kiln
    assertEquals(1, pools.ops().stream().filter(o -> o.type() == OpType.AVERAGE_POOL_2D && o.options() instanceof Options.Pool).count());
    assertEquals(4, fixture("qdq_qlinear_softmax").ops().stream().filter(o -> o.options() instanceof Options.QLinearSoftmax).count());
    List<Op> mm = fixture("qdq_qlinear_matmul").ops().stream().filter(o -> o.type() == OpType.BATCH_MATMUL).toList();
    assertEquals(3, mm.size());
    for (Op op : mm) {
      assertEquals(Options.Requantize.ONNXRUNTIME, op.options(Options.BatchMatMul.class).requantize());
      assertEquals(DType.INT8, op.input(0).dtype());
    }
  }

  @Test void qLinearAddIsSwappedExactlyWhenItsFirstInputIsBroadcastInside() {
    assertTrue(QLinearOps.firstIsBroadcastInside(new int[] {1, 8, 1, 1}, new int[] {1, 8, 5, 5}, new int[] {1, 8, 5, 5}));
    assertTrue(QLinearOps.firstIsBroadcastInside(new int[] {1}, new int[] {2, 3}, new int[] {2, 3}));
    assertFalse(QLinearOps.firstIsBroadcastInside(new int[] {1, 1, 5, 5}, new int[] {1, 8, 5, 5}, new int[] {1, 8, 5, 5}));
    assertFalse(QLinearOps.firstIsBroadcastInside(new int[] {1, 8, 5, 5}, new int[] {8, 1, 1}, new int[] {1, 8, 5, 5}));
    // trailing axes of size 1 in the output do not count: the span is the channels
    assertFalse(QLinearOps.firstIsBroadcastInside(new int[] {1, 8, 1, 1}, new int[] {1, 8, 1, 1}, new int[] {1, 8, 1, 1}));
  }

  @Test void floatConvolutionsKeepTfliteRequantization() throws Exception {
    for (Op op : fixture("conv_bn_relu").ops()) {
      if (op.type() == OpType.CONV_2D) assertEquals(Options.Requantize.TFLITE, op.options(Options.Conv.class).requantize());
    }
  }

  @Test void uint8ActivationsAreInt8CodesShiftedBy128() throws Exception {
    Graph g = fixture("qdq_cnn_u8_per_tensor");
    Op quantize = g.ops().get(0);
    assertEquals(OpType.QUANTIZE, quantize.type());
    assertEquals(DType.INT8, quantize.output().dtype());
    // the model's uint8 zero point z becomes z - 128
    int z = onnxZeroPoint("qdq_cnn_u8_per_tensor", "input_zero_point");
    assertEquals(z - 128, quantize.output().quantization().zeroPoint());
  }

  /** The uint8 value of a scalar zero-point initializer, read with Kiln's own decoder. */
  static int onnxZeroPoint(String fixture, String name) throws Exception {
    Path file = Path.of("src/test/resources/onnx", fixture, "model.onnx");
    byte[] bytes = java.nio.file.Files.readAllBytes(file);
    Proto.Model m = new ModelParser(file.toString(), bytes).parse();
    for (Proto.TensorData t : m.graph().initializers()) {
      if (t.name().equals(name)) return (int) new TensorDecoder(file.toString(), bytes, null).decode(t).longs()[0];
    }
    throw new AssertionError("no initializer " + name);
  }

  @Test void gemmWithAComputedBTransposesBAtRunTime() throws Exception {
    Graph g = fixture("gemm_forms");
    Op fc = g.producer(g.find("y5").orElseThrow()).orElseThrow();
    assertEquals(OpType.FULLY_CONNECTED, fc.type());
    assertEquals("bx", fc.input(1).name()); // transB=1: [N, K] is already the weights' layout
    Op y1 = g.producer(g.find("y1").orElseThrow()).orElseThrow();
    assertEquals(OpType.TRANSPOSE, g.producer(y1.input(0)).orElseThrow().type()); // transA=1
    assertFalse(g.ops().stream().anyMatch(o -> o.type() == OpType.ADD && o.output().name().equals("y2")));
    assertTrue(g.ops().stream().anyMatch(o -> o.type() == OpType.ADD && o.output().name().equals("y4"))); // C [M,N]
  }

  @Test void constantShapeArithmeticIsFolded() throws Exception {
    Graph g = fixture("reshape_flatten_transpose");
    // Constant node, Reshape with 0 and -1, Flatten, Transpose: only the conv and the moves the outputs need
    assertEquals(1, count(g, OpType.CONV_2D));
    for (Tensor out : g.outputs()) assertTrue(g.producer(out).isPresent(), out.name());
  }

  @Test void givenShapesFlowThroughTheGraph() throws Exception {
    Graph g = OnnxReader.read(Path.of("src/test/resources/onnx/dynamic_batch/model.onnx"), Map.of("x", new int[] {2, 3, 5, 6}));
    assertArrayEquals(new int[] {2, 4}, g.outputs().get(0).shape());
  }

  // ---- issue 9: exporter node order, folding, operators onto existing kernels ---------------------

  @Test void torchMobileNetV2ClipsFuseIntoTheirConvsThoughTheirBoundsComeLater() throws Exception {
    Graph g = fixture("torch_mobilenetv2_blocks");
    // every ReLU6 (a Clip whose bound Constants follow the Conv in the file) is the Conv's fused activation
    long relu6 = g.ops().stream().filter(o -> o.type() == OpType.CONV_2D || o.type() == OpType.DEPTHWISE_CONV_2D)
        .filter(o -> o.options(Options.Conv.class).activation() == Activation.RELU6).count();
    assertEquals(8, relu6);
    assertFalse(types(g).contains(OpType.CLAMP));
    assertFalse(types(g).contains(OpType.RELU6));
  }

  @Test void exporterShapeArithmeticIsFoldedAtImport() throws Exception {
    // Shape, Gather, Mul, Div, Unsqueeze, Concat, ConstantOfShape, Range, Cast, Slice: all constants
    Graph g = fixture("shape_arithmetic_folded");
    assertEquals(List.of(OpType.ADD, OpType.ADD), types(g).stream().filter(t -> t != OpType.RESHAPE).toList());
  }

  @Test void aTorchFlattenWithADynamicBatchFoldsOnceTheBatchIsGiven() throws Exception {
    Graph g = OnnxReader.read(Path.of("src/test/resources/onnx/torch_conv1d_dynamic_batch/model.onnx"),
        Map.of("audio", new int[] {2, 4, 32}));
    assertEquals(List.of(OpType.TRANSPOSE, OpType.CONV_2D, OpType.DEPTHWISE_CONV_2D, OpType.MAX_POOL_2D, OpType.FULLY_CONNECTED,
        OpType.SOFTMAX), types(g).stream().filter(t -> t != OpType.RESHAPE).toList());
    assertEquals(Activation.RELU6, g.ops().stream().filter(o -> o.type() == OpType.DEPTHWISE_CONV_2D).findFirst().orElseThrow()
        .options(Options.Conv.class).activation());
  }

  @Test void padAndReduceMeanWorkOnTheNhwcBytesWithoutATranspose() throws Exception {
    Graph pad = fixture("pad_forms");
    Op first = pad.ops().stream().filter(o -> o.type() == OpType.PAD).findFirst().orElseThrow();
    // pads [0,0,1,2] / [0,0,2,1] of an NCHW value whose bytes are NHWC: H and W are physical axes 1 and 2
    assertArrayEquals(new int[] {0, 1, 2, 0}, first.options(Options.Pad.class).before());
    assertArrayEquals(new int[] {0, 2, 1, 0}, first.options(Options.Pad.class).after());
    Graph mean = fixture("reduce_mean_forms");
    Op channels = mean.ops().stream().filter(o -> o.type() == OpType.MEAN).findFirst().orElseThrow();
    assertArrayEquals(new int[] {3}, channels.options(Options.Mean.class).axes());
    assertTrue(count(mean, OpType.TRANSPOSE) <= 1, "only the model input x enters NCHW -> NHWC");
  }

  @Test void oneDimensionalConvolutionsAndPoolsRunAsTwoDimensionalOnesOverAHeightOfOne() throws Exception {
    Graph g = fixture("conv_pool_1d");
    Op conv = g.ops().stream().filter(o -> o.type() == OpType.CONV_2D).findFirst().orElseThrow();
    Options.Conv o = conv.options(Options.Conv.class);
    assertEquals(1, o.strideH());
    assertEquals(2, o.strideW());
    assertEquals(2, o.dilationW());
    assertEquals(new Options.Padding(0, 1, 0, 2), o.padding());
    assertEquals(Activation.RELU, o.activation());
    assertArrayEquals(new int[] {4, 1, 3, 3}, conv.input(1).shape());
  }
}
