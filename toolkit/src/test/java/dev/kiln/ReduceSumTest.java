package dev.kiln;

import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The SUM fixtures of resources/ops-reduce alone (float32, int8 and int16), the same check as
 * {@link ModelConformanceTest} (which also runs them): AoT C interface, gcc, a real process, integer outputs bit-exact.
 * The int8 and int16 ones take TF 2.21's optimized kernel as reference (its BUILTIN_REF SUM is broken for both; see
 * make_ops_reduce.py): int16 with the input's quantization (raw codes summed and clamped) and with a rescaled output.
 */
class ReduceSumTest {
  static Stream<Case> sums() {
    return ReferenceModels.opFamily("ops-reduce").filter(c -> c.name().startsWith("sum_"));
  }

  @Test
  void theInt16FixturesExist() {
    Assertions.assertTrue(sums().filter(c -> c.name().endsWith("_int16")).count() >= 4, "int16 SUM fixtures missing");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sums")
  void matchesTflite(Case c, @TempDir Path work) throws Exception {
    ModelConformanceTest.assertMatchesReference(c, work);
  }
}
