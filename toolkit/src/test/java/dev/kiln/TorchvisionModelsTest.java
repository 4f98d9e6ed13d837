package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnException;
import dev.kiln.codegen.ExecutorConfig;
import dev.kiln.testing.ReferenceDistance;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Models nobody on the team wrote, as a new user exports them: torchvision's own ResNet-18, EfficientNet-B0,
 * MNASNet, RegNetX, GoogLeNet and DenseNet-121 classes (narrowed, random weights) and torch.nn's
 * TransformerEncoderLayer, bidirectional GRU/LSTM, Conv1d/BatchNorm1d and F.interpolate, through torch.onnx at
 * opsets 13, 17 and 20, two CNNs also as onnxruntime QDQ int8 ({@code fixtures/make_models_torchvision.py} into
 * {@code resources/models-torchvision/}). Each runs through the AoT C interface (gcc, as a process) and the graph
 * executor over RPC on the host device program and matches onnxruntime (float within 1e-5*(|ref|+max|ref|); QDQ
 * within the manifest's measured number of output steps).
 */
class TorchvisionModelsTest {
  static Stream<Case> models() { return ReferenceModels.torchvisionModels().stream(); }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void runsThroughTheAotCInterfaceAndMatchesOnnxruntime(Case c, @TempDir Path work) throws Exception {
    ModelConformanceTest.assertMatchesReference(c, work);
    // the figures the README's table quotes: operators, folded, and how far from onnxruntime
    ReferenceDistance d = ReferenceDistance.measure(c, work.resolve("measure"));
    System.out.printf(Locale.ROOT, "torchvision model %-36s %4d Kiln ops for %4d ONNX nodes: %s%n", c.name(), d.kilnOps(),
        c.manifest().path("node_count").asInt(), d.describe("onnxruntime"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void runsWithTheGraphExecutorOverRpcAndMatchesOnnxruntime(Case c) throws Exception {
    DeviceExecutorConformanceTest.assertRunsOnDevice(c, ExecutorConfig.graph("default"));
  }

  /** float64 computation is refused (decided: Kiln computes in float32) in one line that says how to export the model. */
  @Test void float64ModelsAreRefusedInOneLineSayingHowToExportThem() throws Exception {
    Path dir = Path.of("src/test/resources/models-torchvision-refused");
    JsonNode expected = new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
    int seen = 0;
    for (Iterator<String> it = expected.fieldNames(); it.hasNext(); seen++) {
      String name = it.next();
      String m = assertThrows(KilnException.class, () -> Kiln.load(dir.resolve(name + ".onnx")), name).getMessage();
      assertTrue(m.contains(expected.get(name).asText()), name + ": " + m);
      assertFalse(m.contains("\n"), name + ": " + m);
    }
    assertTrue(seen >= 2, "expected.json lists the refused models");
  }
}
