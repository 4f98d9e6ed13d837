package dev.kiln;

import dev.kiln.codegen.ExecutorConfig;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The heavy NN operator fixtures of {@code resources/ops-nn2} (make_ops_nn2.py: TRANSPOSE_CONV,
 * BATCH_MATMUL, the 16x8 CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED, person_detect's bias quirk)
 * alone, so the family can be checked without the whole op suite (ModelConformanceTest runs them
 * too): through the AoT C interface as a process, and a few through the device library's executors.
 */
class HeavyNnOpsTest {
  static final List<String> ON_DEVICE = List.of("tconv_same_s2_bias_int8", "tconv_valid_s21_k23_16x8", "bmm_bcast_adjy_int8",
      "bmm_const_rhs_float", "fc_16x8", "conv_bias_axis3_int8", "svdf_rank2_relu_float", "lstm_seq_float",
      "lstm_cifg_time_major_clip_float", "svdf_full_integer_int8");
  static final List<ExecutorConfig> EXECUTORS = List.of(ExecutorConfig.graph("default"), ExecutorConfig.aot("packed", true, "default"));

  static Stream<Case> fixtures() {
    return ReferenceModels.opFamily("ops-nn2");
  }

  static Stream<Arguments> onDevice() {
    return fixtures().filter(c -> ON_DEVICE.contains(c.name())).flatMap(c -> EXECUTORS.stream().map(e -> Arguments.of(c, e)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void heavyNnFixturesMatchTheReferenceKernels(Case c, @TempDir Path work) throws Exception {
    ModelConformanceTest.assertMatchesReference(c, work);
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("onDevice")
  void heavyNnFixturesRunOnTheDeviceAndMatchTheReference(Case c, ExecutorConfig executor) throws Exception {
    DeviceExecutorConformanceTest.assertRunsOnDevice(c, executor);
  }
}
