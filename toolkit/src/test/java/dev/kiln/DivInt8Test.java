package dev.kiln;

import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * int8 DIV (resources/ops-eltwise/div_int8, made by make_ops_eltwise.py) alone, the same check as
 * {@link ModelConformanceTest} (which also runs it): AoT C interface, gcc, a real process, bit-exact against TF 2.21
 * BUILTIN_REF, including the numerators and zero-point denominators whose shifts C++ leaves undefined and TF's x86
 * build takes mod 32.
 */
class DivInt8Test {
  @Test
  void matchesTfliteBitExact(@TempDir Path work) throws Exception {
    Case c = ReferenceModels.opFixtures().stream().filter(k -> k.folder().getFileName().toString().equals("div_int8"))
        .findFirst().orElseThrow(() -> new AssertionError("ops-eltwise/div_int8 fixture missing"));
    ModelConformanceTest.assertMatchesReference(c, work);
  }
}
