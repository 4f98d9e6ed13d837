package dev.kiln.frontend.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.frontend.ModelFormatException;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the frontend makes of the operators exporters emit (onnx-more): the kernels chosen and the layout kept.
 * Numerics are checked against onnxruntime by ModelConformanceTest (resources/onnx-more) and TorchModelsTest.
 */
class ExporterOpsLoweringTest {
  static Graph fixture(String name) throws Exception {
    return OnnxReader.read(Path.of("src/test/resources/onnx-more", name, "model.onnx"));
  }

  static Graph torch(String name) throws Exception {
    return OnnxReader.read(Path.of("src/test/resources/models-torch", name, "model.onnx"));
  }

  static List<Op> ops(Graph g, OpType t) { return g.ops().stream().filter(o -> o.type() == t).toList(); }

  @Test void torchsNearestUpsampleIsOneTfliteResizeOnTheConvsNhwcBytes() throws Exception {
    Graph g = fixture("resize_nearest_torch");
    List<Op> r = ops(g, OpType.RESIZE_NEAREST_NEIGHBOR);
    assertEquals(1, r.size());
    assertEquals(new Options.Resize(false, false), r.get(0).options(Options.Resize.class));
    assertEquals(OpType.CONV_2D, g.ops().get(g.ops().indexOf(r.get(0)) - 1).type(), "no transpose between Conv and Resize");
    assertTrue(ops(g, OpType.GATHER).isEmpty());
  }

  @Test void nearestIndicesTfliteCannotPickBecomeTwoGathers() throws Exception {
    // half_pixel + round_prefer_floor, 5 -> 7 rows and 4 -> 9 columns: no TFLite setting picks these pixels
    Graph g = fixture("resize_nearest_half_pixel_sizes");
    assertTrue(ops(g, OpType.RESIZE_NEAREST_NEIGHBOR).isEmpty());
    List<Op> gathers = ops(g, OpType.GATHER);
    assertEquals(2, gathers.size());
    assertEquals(1, gathers.get(0).options(Options.Gather.class).axis());
    assertEquals(2, gathers.get(1).options(Options.Gather.class).axis());
  }

  @Test void linearResizeModesMapOntoResizeBilinear() throws Exception {
    assertEquals(new Options.Resize(false, true), ops(fixture("resize_linear_half_pixel"), OpType.RESIZE_BILINEAR).get(0).options(Options.Resize.class));
    assertEquals(new Options.Resize(false, true), ops(fixture("resize_linear_pytorch_sizes"), OpType.RESIZE_BILINEAR).get(0).options(Options.Resize.class));
    assertEquals(new Options.Resize(true, false), ops(fixture("resize_linear_align_corners"), OpType.RESIZE_BILINEAR).get(0).options(Options.Resize.class));
    assertEquals(new Options.Resize(false, false), ops(fixture("resize_linear_asymmetric_down"), OpType.RESIZE_BILINEAR).get(0).options(Options.Resize.class));
  }

  @Test void expandAndTileOfAConvOutputStayNhwc() throws Exception {
    Graph g = fixture("expand_tile_nhwc");
    Op b = ops(g, OpType.BROADCAST_TO).get(0);
    Op t = ops(g, OpType.TILE).get(0);
    assertEquals(OpType.CONV_2D, g.ops().stream().filter(o -> o.outputs().contains(b.input(0))).findFirst().orElseThrow().type());
    assertEquals(b.input(0), t.input(0));
    // multiples [1,2,2,2] in NCHW are [1,2,2,2] in NHWC too; the broadcast shape [2,3,3,4] NCHW is [2,3,4,3] NHWC
    assertEquals(List.of(2, 3, 4, 3), java.util.Arrays.stream(b.output().shape()).boxed().toList());
  }

  @Test void aUnetsTransposedConvolutionAndUpsamplesUseTfliteKernels() throws Exception {
    Graph g = torch("unet_small");
    assertEquals(1, ops(g, OpType.TRANSPOSE_CONV).size());
    assertEquals(1, ops(g, OpType.RESIZE_BILINEAR).size());
    assertEquals(1, ops(g, OpType.RESIZE_NEAREST_NEIGHBOR).size());
    assertEquals(2, ops(g, OpType.TRANSPOSE).size(), "only at the 4-D input and output");
  }

  @Test void attentionMatMulsAreBatchMatMulsReadingTheTransposedKeysInPlace() throws Exception {
    Graph g = torch("attention_block");
    List<Op> mm = ops(g, OpType.BATCH_MATMUL);
    assertEquals(2, mm.size());
    assertTrue(mm.get(0).options(Options.BatchMatMul.class).adjY(), "q @ k^T reads k's bytes (adj_y)");
    assertFalse(mm.get(1).options(Options.BatchMatMul.class).adjY());
    assertEquals(1, ops(g, OpType.ERF).size(), "the exact GELU's Erf");
  }

  @Test void whatKilnCannotCompileIsRefusedInOneLineSayingWhatWorks() throws Exception {
    Path dir = Path.of("src/test/resources/onnx-more-refused");
    JsonNode expected = new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
    for (Iterator<String> it = expected.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      String m = assertThrows(ModelFormatException.class, () -> OnnxReader.read(dir.resolve(name + ".onnx")), name).getMessage();
      assertTrue(m.contains(expected.get(name).asText()), name + ": " + m);
      assertFalse(m.contains("\n"), name + ": " + m);
      assertTrue(m.contains("node 0") || m.contains("node 1"), name + " names the node: " + m);
    }
  }
}
