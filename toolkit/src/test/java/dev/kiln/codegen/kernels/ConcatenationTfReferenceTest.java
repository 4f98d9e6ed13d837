package dev.kiln.codegen.kernels;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** CONCATENATION against TensorFlow 2.21 BUILTIN_REF outputs (resource tf/concatenation.json.gz, see {@link TfCases}). */
class ConcatenationTfReferenceTest {
  @TestFactory Stream<DynamicTest> matchesTfliteReference() { return TfCases.tests("concatenation"); }
}
