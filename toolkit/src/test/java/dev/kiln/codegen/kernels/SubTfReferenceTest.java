package dev.kiln.codegen.kernels;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** SUB against TensorFlow 2.21 BUILTIN_REF outputs (resource tf/sub.json.gz, see {@link TfCases}). */
class SubTfReferenceTest {
  @TestFactory Stream<DynamicTest> matchesTfliteReference() { return TfCases.tests("sub"); }
}
