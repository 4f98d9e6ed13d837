package dev.kiln.codegen.kernels;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** ADD against TensorFlow 2.21 BUILTIN_REF outputs (resource tf/add.json.gz, see {@link TfCases}). */
class AddTfReferenceTest {
  @TestFactory Stream<DynamicTest> matchesTfliteReference() { return TfCases.tests("add"); }
}
