package dev.kiln;

import dev.kiln.codegen.ExecutorConfig;
import dev.kiln.testing.ReferenceDistance;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole torchvision networks (MobileNetV2, MobileNetV3-small, ShuffleNetV2, SqueezeNet 1.1) exported by
 * torch.onnx, float and QDQ int8 (onnxruntime's quantize_static), made by {@code fixtures/make_models_torch.py}
 * into {@code resources/models-torch/}: each runs through the AoT C interface (gcc, as a process) and through the
 * graph and AoT executors over RPC on the host device program, and matches onnxruntime (float within
 * 1e-5*(|ref|+max|ref|); QDQ within the manifest's measured number of output quantization steps).
 */
class TorchModelsTest {
  static final List<ExecutorConfig> EXECUTORS = List.of(ExecutorConfig.graph("default"), ExecutorConfig.aot("c", true, "default"));

  static Stream<Case> models() { return ReferenceModels.torchModels().stream(); }

  static Stream<Arguments> modelsOnExecutors() {
    return models().flatMap(c -> EXECUTORS.stream().map(e -> Arguments.of(c, e)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void runsThroughTheAotCInterfaceAndMatchesOnnxruntime(Case c, @TempDir Path work) throws Exception {
    ModelConformanceTest.assertMatchesReference(c, work);
    // the figures the README quotes: how far from onnxruntime, in output steps (QDQ) or in the tolerance's units
    ReferenceDistance d = ReferenceDistance.measure(c, work.resolve("measure"));
    System.out.printf(Locale.ROOT, "torch model %-24s %d ops: %s%n", c.name(), d.kilnOps(), d.describe("onnxruntime"));
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("modelsOnExecutors")
  void runsOnTheDeviceOverRpcAndMatchesOnnxruntime(Case c, ExecutorConfig executor) throws Exception {
    DeviceExecutorConformanceTest.assertRunsOnDevice(c, executor);
  }
}
