package dev.kiln;

import dev.kiln.codegen.ExecutorConfig;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Path;
import java.util.stream.Stream;
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
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void runsWithTheGraphExecutorOverRpcAndMatchesOnnxruntime(Case c) throws Exception {
    DeviceExecutorConformanceTest.assertRunsOnDevice(c, ExecutorConfig.graph("default"));
  }
}
