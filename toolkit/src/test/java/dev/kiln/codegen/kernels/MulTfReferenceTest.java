package dev.kiln.codegen.kernels;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** MUL against TensorFlow 2.21 BUILTIN_REF outputs (resource tf/mul.json.gz, see {@link TfCases}). */
class MulTfReferenceTest {
  @TestFactory Stream<DynamicTest> matchesTfliteReference() { return TfCases.tests("mul"); }
}
