package dev.kiln;

import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The onnx-ops2 fixtures alone (Einsum with two computed operands, GatherElements), compiled with gcc and run as a
 * process against onnxruntime's outputs; ModelConformanceTest runs them too, among every ONNX fixture.
 */
class OnnxOps2ConformanceTest {
  static Stream<Case> cases() { return ReferenceModels.onnxOps2().stream(); }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesOnnxruntime(Case c, @TempDir Path work) throws Exception {
    ModelConformanceTest.assertMatchesReference(c, work);
  }
}
