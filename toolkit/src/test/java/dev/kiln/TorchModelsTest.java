package dev.kiln;

import dev.kiln.api.Executor;
import dev.kiln.api.HostModel;
import dev.kiln.api.Kiln;
import dev.kiln.api.Model;
import dev.kiln.api.Tensor;
import dev.kiln.codegen.ExecutorConfig;
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
    Model model = Kiln.load(c.modelFile(), c.loadOptions());
    HostModel program = model.build(Executor.aot().interfaceApi("c").unpackedApi(true)).compileForHost(work.resolve("measure"));
    double worst = 0;
    long differ = 0;
    long values = 0;
    for (int s : c.samples()) {
      Tensor got = program.run(List.of(Tensor.load(c.input(s, 0)))).get(0);
      Tensor ref = Tensor.load(c.output(s, 0));
      float[] a = got.toFloatArray();
      float[] r = ref.toFloatArray();
      double step = c.manifest().path("tolerance").path("step").asDouble(0);
      double max = 0;
      for (float v : r) max = Math.max(max, Math.abs(v));
      for (int i = 0; i < r.length; i++) {
        double d = Math.abs(a[i] - r[i]);
        double units = step > 0 ? d / step : d / (1e-5 * (Math.abs(r[i]) + max));
        worst = Math.max(worst, units);
        if (d > 0) differ++;
      }
      values += r.length;
    }
    System.out.printf(Locale.ROOT, "torch model %-24s %d ops: %d of %d values differ from onnxruntime, worst %.3f %s%n",
        c.name(), model.graph().ops().size(), differ, values, worst,
        c.manifest().path("tolerance").has("step") ? "output steps" : "x the float tolerance");
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("modelsOnExecutors")
  void runsOnTheDeviceOverRpcAndMatchesOnnxruntime(Case c, ExecutorConfig executor) throws Exception {
    DeviceExecutorConformanceTest.assertRunsOnDevice(c, executor);
  }
}
