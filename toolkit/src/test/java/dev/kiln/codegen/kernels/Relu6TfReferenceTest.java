package dev.kiln.codegen.kernels;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** RELU6 against TensorFlow 2.21 BUILTIN_REF outputs (resource tf/relu6.json.gz, see {@link TfCases}). */
class Relu6TfReferenceTest {
  @TestFactory Stream<DynamicTest> matchesTfliteReference() { return TfCases.tests("relu6"); }
}
