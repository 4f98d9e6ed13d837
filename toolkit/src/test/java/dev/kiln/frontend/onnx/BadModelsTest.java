package dev.kiln.frontend.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.UnsupportedOperatorException;
import dev.kiln.ir.Graph;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models Kiln must refuse (made by fixtures/make_onnx_fixtures.py into resources/onnx_bad): one
 * clear sentence each, naming the file and what to do.
 */
class BadModelsTest {
  static final Path BAD = Path.of("src/test/resources/onnx_bad");

  static String message(String file) {
    return assertThrows(ModelFormatException.class, () -> OnnxReader.read(BAD.resolve(file))).getMessage();
  }

  @Test void aTextFileIsNotAnOnnxModel() {
    assertEquals(BAD.resolve("not_onnx.onnx") + ": not an ONNX model: the file starts with text (\"this is a text file, not\"); an"
        + " ONNX model is a binary protobuf ModelProto (ONNX's text format is not read)", message("not_onnx.onnx"));
  }

  @Test void aTfliteModelIsRecognised() throws Exception {
    byte[] tflite = Files.readAllBytes(dev.kiln.testing.ReferenceModels.shared("tflite", "digits_cnn_int8").modelFile());
    String m = assertThrows(ModelFormatException.class, () -> OnnxReader.read("digits.onnx", tflite, Map.of())).getMessage();
    assertEquals("digits.onnx: not an ONNX model: this is a TensorFlow Lite model (identifier TFL3 at byte 4); give it a .tflite name"
        + " or load it with the TFLite frontend", m);
  }

  @Test void anEmptyFileSaysSo(@TempDir Path dir) throws Exception {
    Path empty = Files.write(dir.resolve("empty.onnx"), new byte[0]);
    assertEquals(empty + ": the file is empty (0 bytes); an ONNX model is a protobuf ModelProto",
        assertThrows(ModelFormatException.class, () -> OnnxReader.read(empty)).getMessage());
  }

  @Test void aMissingFileNamesThePathLookedFor(@TempDir Path dir) {
    Path missing = dir.resolve("nope.onnx");
    assertEquals(missing + ": cannot read the model: no such file (looked for " + missing.toAbsolutePath() + ")",
        assertThrows(ModelFormatException.class, () -> OnnxReader.read(missing)).getMessage());
  }

  @Test void aTruncatedFileNamesTheFieldAndTheBytesMissing() {
    String m = message("truncated.onnx");
    assertTrue(m.startsWith(BAD.resolve("truncated.onnx") + ": truncated or corrupt ONNX file: in ModelProto, graph (field 7) at byte "), m);
    assertTrue(m.endsWith(" remain in ModelProto (the file ends there); the file is truncated or corrupt"), m);
  }

  @Test void missingExternalDataNamesTheTensorTheKeysAndThePathLookedFor() {
    Path data = BAD.resolve("external_missing.bin").toAbsolutePath().normalize();
    assertEquals(BAD.resolve("external_missing.onnx") + ": tensor 'w' (graph.initializer[0]) keeps its data in an external file"
        + " (external_data {location=external_missing.bin, offset=0, length=32}), but 'external_missing.bin' does not exist next to"
        + " the model (looked for " + data + "); copy the data file beside the .onnx file", message("external_missing.onnx"));
  }

  @Test void externalDataCannotBeResolvedForAModelInMemory() throws Exception {
    byte[] bytes = Files.readAllBytes(Path.of("src/test/resources/onnx/external_data/model.onnx"));
    String m = assertThrows(ModelFormatException.class, () -> OnnxReader.read("mem.onnx", bytes, Map.of())).getMessage();
    assertTrue(m.startsWith("mem.onnx: tensor 'w' (graph.initializer[0]) keeps its data in an external file (external_data"
        + " {location=weights.bin, "), m);
    assertTrue(m.endsWith("but the model was loaded from memory, so there is no folder to find 'weights.bin' in; load the model"
        + " from its file"), m);
  }

  @Test void anOpsetOutsideSevenToTwentyEightIsRefusedWithTheFix() {
    assertEquals(BAD.resolve("opset29.onnx") + ": the model imports ai.onnx opset 29; Kiln compiles opsets 7 to 28 (re-export it within"
        + " that range, e.g. torch.onnx.export(..., opset_version=17), or convert it with"
        + " onnx.version_converter.convert_version(model, 17))", message("opset29.onnx"));
  }

  @Test void anUnsupportedOperatorNamesTheNodeItsTypeAndOpsetAndListsWhatIsSupported() {
    UnsupportedOperatorException e = assertThrows(UnsupportedOperatorException.class,
        () -> OnnxReader.read(BAD.resolve("unsupported_op.onnx")));
    assertEquals(BAD.resolve("unsupported_op.onnx") + ": node 1 'shrink1' (Shrink) uses ai.onnx operator Shrink (opset 14), which Kiln does"
        + " not support: inputs [a] -> outputs [b]. The model also uses these unsupported operators: Hardmax. Supported operators"
        + " (ai.onnx, opsets 7 to 28): " + Operators.list() + ".", e.getMessage());
    assertEquals("Shrink", e.operator());
    assertEquals(1, e.operatorIndex());
  }

  @Test void aLoopIsOneErrorAboutControlFlow() {
    UnsupportedOperatorException e = assertThrows(UnsupportedOperatorException.class, () -> OnnxReader.read(BAD.resolve("loop.onnx")));
    assertEquals(BAD.resolve("loop.onnx") + ": the graph uses control flow: node 0 'count_up' (Loop) runs a subgraph; Kiln compiles"
        + " straight-line graphs only (no Loop, If or Scan): export the model with its loops unrolled (e.g. torch.jit.trace instead"
        + " of torch.jit.script)", e.getMessage());
  }

  @Test void aDynamicDimensionNamesTheInputAndHowToFixIt() {
    assertEquals(BAD.resolve("dynamic.onnx") + ": input 'x' has shape [batch_size,3,32,32] with dynamic dimension 0 ('batch_size');"
        + " Kiln compiles static shapes: fix it when loading, e.g. Kiln.load(path, LoadOptions.inputShape(\"x\", 1, 3, 32, 32)) or"
        + " kiln ... --input-shape 'x=1,3,32,32'", message("dynamic.onnx"));
  }

  @Test void theSuggestedFixWorksAndTheShapeFlowsThroughTheGraph() throws Exception {
    Graph g = OnnxReader.read(BAD.resolve("dynamic.onnx"), Map.of("x", new int[] {2, 3, 32, 32}));
    assertArrayEquals(new int[] {2, 3, 32, 32}, g.inputs().get(0).shape());
    assertArrayEquals(new int[] {2, 3, 32, 32}, g.outputs().get(0).shape());
  }

  @Test void aShapeForAnInputThatDoesNotExistListsTheInputs() {
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> OnnxReader.read(BAD.resolve("dynamic.onnx"), Map.of("images", new int[] {1, 3, 32, 32})));
    assertEquals(BAD.resolve("dynamic.onnx") + ": an input shape was given for 'images', but the model has no such input; its inputs"
        + " are:\n  x [batch_size,3,32,32]", e.getMessage());
  }

  @Test void aShapeThatContradictsAFixedDimensionIsRefused() {
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> OnnxReader.read(BAD.resolve("dynamic.onnx"), Map.of("x", new int[] {1, 4, 32, 32})));
    assertEquals(BAD.resolve("dynamic.onnx") + ": the shape given for input 'x' is [1,4,32,32], but the model declares"
        + " [batch_size,3,32,32]; give one that keeps its fixed dimensions", e.getMessage());
  }

  @Test void everyBadFixtureIsRefusedWithAModelFormatException() throws Exception {
    try (var files = Files.list(BAD)) {
      for (Path p : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".onnx"))::iterator) {
        assertInstanceOf(ModelFormatException.class, assertThrows(Exception.class, () -> OnnxReader.read(p)), p.toString());
      }
    }
  }
}
