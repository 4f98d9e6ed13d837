package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * int8 DIV and int8 -> int16 SOFTMAX (resources/ops-eltwise/div_int8 and softmax_int8_int16, made by
 * make_ops_eltwise.py) alone, the same check as {@link ModelConformanceTest} (which also runs them): AoT C interface,
 * gcc, a real process, bit-exact against TF 2.21 BUILTIN_REF; DIV including the numerators and zero-point
 * denominators whose shifts C++ leaves undefined and TF's x86 build takes mod 32.
 */
class EltwiseInt8FormsTest {
  private static final Set<String> NAMES = Set.of("div_int8", "softmax_int8_int16");

  static Stream<Case> cases() {
    var cases = ReferenceModels.opFixtures().stream().filter(c -> NAMES.contains(c.name())).toList();
    assertEquals(NAMES.size(), cases.size(), "fixtures found: " + cases);
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesTfliteBitExact(Case c, @TempDir Path work) throws Exception {
    ModelConformanceTest.assertMatchesReference(c, work);
  }
}
