package dev.kiln.codegen.kernels;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** RELU against TensorFlow 2.21 BUILTIN_REF outputs (resource tf/relu.json.gz, see {@link TfCases}). */
class ReluTfReferenceTest {
  @TestFactory Stream<DynamicTest> matchesTfliteReference() { return TfCases.tests("relu"); }
}
