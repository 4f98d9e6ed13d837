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
 * The float32 LSTM forms of resources/ops-lstm (make_ops_lstm.py: peephole, projection, layer norm, alone and
 * together), the same check as {@link ModelConformanceTest} (which also runs them): AoT C interface, gcc, a real
 * process, within 1e-5 * (|ref| + max|ref|) of TFLite 2.21 BUILTIN_REF over 3 consecutive invocations (the state
 * variables carry over).
 */
class LstmFormsTest {
  static Stream<Case> lstmForms() {
    return ReferenceModels.opFamily("ops-lstm");
  }

  @Test
  void theFixturesExist() {
    Assertions.assertTrue(lstmForms().count() >= 10, "ops-lstm fixtures missing");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("lstmForms")
  void matchesTfliteWithinTolerance(Case c, @TempDir Path work) throws Exception {
    ModelConformanceTest.assertMatchesReference(c, work);
  }
}
