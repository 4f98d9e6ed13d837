package dev.kiln.frontend.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An output's declaration (element type, dimensions) that contradicts what the graph computes is
 * refused in one line; it was once accepted and compiled as float32 [1,10] whatever it said.
 */
class DeclaredOutputsTest {
  /** x: float [1,10] -> Relu -> y, with y declared by {@code output}. */
  static byte[] reluModel(ProtoWriter output) {
    ProtoWriter graph = new ProtoWriter()
        .message(1, ProtoWriter.node("Relu", new String[] {"x"}, new String[] {"y"}))
        .string(2, "declared")
        .message(11, ProtoWriter.valueInfo("x", 1, 1, 10))
        .message(12, output);
    return ProtoWriter.model(13, graph).bytes();
  }

  static String refusal(ProtoWriter output) {
    return assertThrows(ModelFormatException.class, () -> OnnxReader.read("m.onnx", reluModel(output), Map.of())).getMessage();
  }

  @Test
  void anOutputDeclaredWithAnotherElementTypeIsRefused() {
    assertEquals("m.onnx: the model declares output 'y' as INT64 (7) but its graph computes float32 there; declare it as FLOAT (1),"
        + " or add a Cast node if a conversion is meant", refusal(ProtoWriter.valueInfo("y", 7, 1, 10)));
    assertEquals("m.onnx: the model declares output 'y' as UINT8 (2) but its graph computes float32 there; declare it as FLOAT (1),"
        + " or add a Cast node if a conversion is meant", refusal(ProtoWriter.valueInfo("y", 2, 1, 10)));
    assertEquals("m.onnx: the model declares output 'y' as UNDEFINED (0) but its graph computes float32 there; declare it as"
        + " FLOAT (1), or add a Cast node if a conversion is meant", refusal(ProtoWriter.valueInfo("y", 0, 1, 10)));
  }

  @Test
  void anOutputDeclaredWithAnImpossibleDimensionIsRefused() {
    assertEquals("m.onnx: the model declares output 'y' with dimension 1 = -9223372036854775808; a dimension is 0 to 2147483647:"
        + " fix the output's declared shape", refusal(ProtoWriter.valueInfo("y", 1, 1, Long.MIN_VALUE)));
    assertEquals("m.onnx: the model declares output 'y' with dimension 0 = -5; a dimension is 0 to 2147483647: fix the output's"
        + " declared shape", refusal(ProtoWriter.valueInfo("y", 1, -5, 10)));
    assertEquals("m.onnx: the model declares output 'y' with shape [1,11] but its graph computes [1,10]; the model's shapes are"
        + " inconsistent", refusal(ProtoWriter.valueInfo("y", 1, 1, 11)));
  }

  /** Every committed ONNX model declares its outputs truthfully: the check refuses none of them. */
  @Test
  void everyOnnxFixtureAndSharedModelStillLoads() throws Exception {
    java.util.List<dev.kiln.testing.ReferenceModels.Case> all = new java.util.ArrayList<>(dev.kiln.testing.ReferenceModels.onnxFixtures());
    all.addAll(dev.kiln.testing.ReferenceModels.shared("onnx"));
    for (var c : all) {
      java.util.Map<String, int[]> shapes = c.loadOptions().inputShapes();
      Graph g = OnnxReader.read(c.modelFile(), shapes);
      assertEquals(c.outputCount(), g.outputs().size(), c.name());
    }
  }

  @Test
  void aTrueOrOpenDeclarationIsAccepted() throws Exception {
    Graph declared = OnnxReader.read("m.onnx", reluModel(ProtoWriter.valueInfo("y", 1, 1, 10)), Map.of());
    assertEquals(DType.FLOAT32, declared.outputs().get(0).dtype());
    assertArrayEquals(new int[] {1, 10}, declared.outputs().get(0).shape());
    // no type at all: nothing is contradicted
    Graph open = OnnxReader.read("m.onnx", reluModel(new ProtoWriter().string(1, "y")), Map.of());
    assertEquals(DType.FLOAT32, open.outputs().get(0).dtype());
  }
}
