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
 * int8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED with INT4 filters (resources/ops-int4, made by
 * make_ops_int4.py), the same check as {@link ModelConformanceTest} (which also runs them): the frontend unpacks the
 * nibbles to int8 as TFLite Micro does, and the outputs are bit-exact with TF 2.21 BUILTIN_REF.
 */
class Int4WeightsTest {
  static Stream<Case> int4() {
    return ReferenceModels.opFamily("ops-int4");
  }

  @Test
  void theFixturesExist() {
    Assertions.assertTrue(int4().count() >= 5, "ops-int4 fixtures missing");
  }

  @Test
  void kilnInfoSaysTheInt4FilterWasUnpacked() {
    Case c = int4().filter(k -> k.name().equals("conv_int4_per_channel_int8")).findFirst().orElseThrow();
    String summary = dev.kiln.api.Kiln.load(c.modelFile()).summary();
    Assertions.assertTrue(summary.contains("interpreted:\n  tensor 'filter' (index 1) is INT4 (two values per byte); "
        + "unpacked to int8 at load, as TFLite Micro does before its kernels run"), summary);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("int4")
  void matchesTfliteBitExact(Case c, @TempDir Path work) throws Exception {
    ModelConformanceTest.assertMatchesReference(c, work);
  }
}
