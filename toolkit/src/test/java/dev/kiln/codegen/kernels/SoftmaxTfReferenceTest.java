package dev.kiln.codegen.kernels;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** SOFTMAX against TensorFlow 2.21 BUILTIN_REF outputs (resource tf/softmax.json.gz, see {@link TfCases}). */
class SoftmaxTfReferenceTest {
  @TestFactory Stream<DynamicTest> matchesTfliteReference() { return TfCases.tests("softmax"); }
}
