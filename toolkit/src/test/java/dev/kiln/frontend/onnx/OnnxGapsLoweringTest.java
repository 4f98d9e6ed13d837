package dev.kiln.frontend.onnx;

import static dev.kiln.frontend.onnx.ExporterOpsLoweringTest.ops;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the frontend makes of TopK, grouped and run-time-weight (transposed) convolutions, cubic Resize and batch-first
 * recurrences: the kernels chosen and the layout kept. Numerics are checked against onnxruntime by ModelConformanceTest
 * (resources/onnx-more, resources/onnx-ops2) and against ONNX's node tests by OnnxNodeSuiteTest.
 */
class OnnxGapsLoweringTest {
  static Graph read(String dir, String name) throws Exception {
    return OnnxReader.read(Path.of("src/test/resources", dir, name, "model.onnx"));
  }

  @Test void topKIsOneKernelReadingTheConvsNhwcChannelsInPlace() throws Exception {
    Graph g = read("onnx-ops2", "topk_nhwc_channels");
    List<Op> topk = ops(g, OpType.TOPK);
    assertEquals(1, topk.size());
    Op op = topk.get(0);
    assertEquals(new Options.TopK(3, true), op.options(Options.TopK.class), "channels are NHWC axis 3");
    assertEquals(OpType.CONV_2D, g.ops().get(g.ops().indexOf(op) - 1).type(), "no transpose between Conv and TopK");
    assertEquals(2, op.outputs().size());
    assertArrayEquals(new int[] {1, 3, 3, 2}, op.outputs().get(0).shape());
    assertEquals(DType.INT64, op.outputs().get(1).dtype());
    assertTrue(ops(g, OpType.ARG_MAX).isEmpty());
  }

  @Test void topKTakesIntegerTypesAndAnyK() throws Exception {
    assertEquals(DType.INT8, ops(read("onnx-ops2", "topk_int8_ties"), OpType.TOPK).get(0).input(0).dtype());
    assertEquals(DType.UINT8, ops(read("onnx-ops2", "topk_uint8_smallest"), OpType.TOPK).get(0).input(0).dtype());
    Op k100 = ops(read("onnx-ops2", "topk_float_k100"), OpType.TOPK).get(0);
    assertArrayEquals(new int[] {2, 100}, k100.outputs().get(0).shape());
  }

  @Test void groupedConvTransposeIsOneTransposeConvPerGroupJoinedOnChannels() throws Exception {
    Graph g = read("onnx-more", "convtranspose_group2_dilation");
    List<Op> tc = ops(g, OpType.TRANSPOSE_CONV);
    assertEquals(2, tc.size());
    for (Op op : tc) assertTrue(op.input(1).isConstant(), "constant weights are laid out at compile time");
    List<Op> concat = ops(g, OpType.CONCATENATION);
    assertEquals(1, concat.size());
    assertEquals(3, concat.get(0).options(Options.Concat.class).axis());
  }

  @Test void runTimeConvTransposeWeightsAreGatheredIntoPlace() throws Exception {
    Graph g = read("onnx-more", "convtranspose_runtime_weights_group2");
    List<Op> tc = ops(g, OpType.TRANSPOSE_CONV);
    assertEquals(2, tc.size());
    for (Op op : tc) {
      assertTrue(!op.input(1).isConstant());
      assertEquals(OpType.GATHER, g.ops().stream().filter(o -> o.outputs().contains(op.input(1))).findFirst().orElseThrow().type());
    }
  }

  @Test void runTimeConvWeightsAreTransposedOnTheDevice() throws Exception {
    Graph g = read("onnx-more", "conv_runtime_weights_depthwise");
    List<Op> dw = ops(g, OpType.DEPTHWISE_CONV_2D);
    assertEquals(1, dw.size());
    assertArrayEquals(new int[] {1, 3, 3, 3}, dw.get(0).input(1).shape(), "[1, kH, kW, M]");
    assertTrue(!dw.get(0).input(1).isConstant());
  }

  @Test void cubicResizeIsFourWeightedTapsPerAxis() throws Exception {
    Graph g = read("onnx-more", "resize_cubic_half_pixel");
    List<Op> gathers = ops(g, OpType.GATHER);
    assertEquals(8, gathers.size());
    assertEquals(4, gathers.stream().filter(o -> o.options(Options.Gather.class).axis() == 2).count(), "columns (NHWC axis 2)");
    assertEquals(4, gathers.stream().filter(o -> o.options(Options.Gather.class).axis() == 1).count(), "rows (NHWC axis 1)");
    assertTrue(ops(g, OpType.RESIZE_BILINEAR).isEmpty());
  }

  @Test void batchFirstRecurrencesSwapAxesOnlyAtTheEdges() throws Exception {
    Graph g = read("onnx-more", "lstm_batch_first_peepholes");
    // X once for both directions, and Y, Y_h, Y_c; initial_h and initial_c are read per direction by STRIDED_SLICEs on
    // their own bytes, and nothing inside the unrolled steps is transposed
    List<String> transposed = ops(g, OpType.TRANSPOSE).stream().map(o -> o.input(0).name().replaceAll("[/#].*", "")).toList();
    assertEquals(List.of("X", "Y", "Y_h", "Y_c"), transposed);
  }
}
