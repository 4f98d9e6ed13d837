package dev.kiln.codegen.kernels;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** TANH against TensorFlow 2.21 BUILTIN_REF outputs (resource tf/tanh.json.gz, see {@link TfCases}). */
class TanhTfReferenceTest {
  @TestFactory Stream<DynamicTest> matchesTfliteReference() { return TfCases.tests("tanh"); }
}
