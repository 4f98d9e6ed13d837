package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.codegen.ExecutorConfig;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole Keras networks nobody here wrote the layers of ({@code resources/models-keras}, made by
 * make_models_keras.py: MobileNet v1/v2/v3-small, a Conv1D audio net, a U-Net, an attention block, and
 * keras.applications EfficientNet-B0 / ResNet50V2 / DenseNet121 / NASNetMobile blocks at small widths, a
 * ResNet-18, an Xception-style net, SeparableConv2D, normalization and resampling nets, a token transformer,
 * an Embedding text classifier, bidirectional LSTM/GRU as loops and unrolled, two-output nets;
 * float32, full-integer int8, 16x8 where TF converts them and dynamic-range for two, references from TFLite
 * BUILTIN_REF): through the
 * AoT C interface compiled by gcc and run as a process (every model), and through the graph and AoT
 * executors of the host device program over RPC (nine by default, all with -Dkiln.keras.allOnDevice=true).
 * int8 and int16 bit-exact, float32 within 1e-5 * (|ref| + max|ref|).
 */
class KerasModelsTest {
  static final List<ExecutorConfig> EXECUTORS = List.of(ExecutorConfig.graph("default"), ExecutorConfig.aot("c", true, "default"));
  /**
   * The models the device executors run by default: one per data type family and input kind (int32 token ids
   * and hybrid weights in embedding_text_hybrid, a few hundred small operators in bigru_unrolled_int8, two
   * inputs and two outputs set and read by name in multi_io_int8; the
   * executors' plumbing does not depend on the network); -Dkiln.keras.allOnDevice=true runs all.
   */
  static final List<String> ON_DEVICE = List.of("mobilenet_v1_float", "mobilenet_v2_int16", "mobilenet_v3_small_int8",
      "conv1d_audio_int8", "unet_int8", "attention_float", "embedding_text_hybrid", "bigru_unrolled_int8", "multi_io_int8");

  static Stream<Case> models() { return ReferenceModels.kerasModels().stream(); }

  static Stream<Arguments> onDevice() {
    boolean all = Boolean.getBoolean("kiln.keras.allOnDevice");
    return models().filter(c -> all || ON_DEVICE.contains(c.name())).flatMap(c -> EXECUTORS.stream().map(e -> Arguments.of(c, e)));
  }

  @Test void theKerasModelsArePresent() {
    assertFalse(models().findAny().isEmpty(), "no models under src/test/resources/models-keras");
    assertTrue(models().count() >= 64, "models-keras fixtures missing: " + models().count() + " of 64");
    for (String name : ON_DEVICE) {
      assertTrue(models().anyMatch(c -> c.name().equals(name)), "models-keras/" + name + " missing");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void kerasModelsMatchTheReferenceKernelsThroughTheAotCInterface(Case c, @TempDir Path work) throws Exception {
    ModelConformanceTest.assertMatchesReference(c, work);
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("onDevice")
  void kerasModelsRunOnTheDeviceAndMatchTheReference(Case c, ExecutorConfig executor) throws Exception {
    DeviceExecutorConformanceTest.assertRunsOnDevice(c, executor);
  }
}
