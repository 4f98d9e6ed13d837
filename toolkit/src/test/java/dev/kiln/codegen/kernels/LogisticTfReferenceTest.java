package dev.kiln.codegen.kernels;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** LOGISTIC against TensorFlow 2.21 BUILTIN_REF outputs (resource tf/logistic.json.gz, see {@link TfCases}). */
class LogisticTfReferenceTest {
  @TestFactory Stream<DynamicTest> matchesTfliteReference() { return TfCases.tests("logistic"); }
}
