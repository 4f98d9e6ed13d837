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
 * The data-type fixtures of {@code resources/ops-dtypes} (make_ops_dtypes.py: int16 LOGISTIC and
 * TANH in both of TFLite's scale paths, int16 EXP, LOG, RSQRT and GELU tables, int16 RELU, RELU6,
 * BATCH_MATMUL, and int16 joins and data movement) alone, so the family can be checked without the whole op
 * suite (ModelConformanceTest runs them too): through the AoT C interface as a process, and two
 * through the device library's graph executor.
 */
class DtypeOpsTest {
  static final List<String> ON_DEVICE = List.of("logistic_int16", "tanh_pot1_int16", "log_int16", "bmm_int16");

  static Stream<Case> fixtures() {
    return ReferenceModels.opFamily("ops-dtypes");
  }

  static Stream<Arguments> onDevice() {
    return fixtures().filter(c -> ON_DEVICE.contains(c.name())).map(c -> Arguments.of(c, ExecutorConfig.graph("default")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void dtypeFixturesMatchTheReferenceKernels(Case c, @TempDir Path work) throws Exception {
    ModelConformanceTest.assertMatchesReference(c, work);
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("onDevice")
  void dtypeFixturesRunOnTheDeviceAndMatchTheReference(Case c, ExecutorConfig executor) throws Exception {
    DeviceExecutorConformanceTest.assertRunsOnDevice(c, executor);
  }
}
