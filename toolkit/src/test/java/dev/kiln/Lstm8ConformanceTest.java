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
 * The full-integer LSTM fixtures (resources/ops-lstm8) alone, the same check as {@link ModelConformanceTest} (which
 * also runs them): AoT C interface, gcc, a real process, bit-exact against TFLite 2.21 BUILTIN_REF over 3 consecutive
 * invocations (the state variables carry over, the int8 output state starting at its zero point).
 */
class Lstm8ConformanceTest {
  static Stream<Case> lstm8() {
    return ReferenceModels.opFamily("ops-lstm8");
  }

  @Test
  void theFixturesExist() {
    Assertions.assertTrue(lstm8().count() >= 3, "ops-lstm8 fixtures missing");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("lstm8")
  void matchesTfliteBitExact(Case c, @TempDir Path work) throws Exception {
    ModelConformanceTest.assertMatchesReference(c, work);
  }
}
