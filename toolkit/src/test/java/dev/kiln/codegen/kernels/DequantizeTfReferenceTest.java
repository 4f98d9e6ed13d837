package dev.kiln.codegen.kernels;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** DEQUANTIZE against TensorFlow 2.21 BUILTIN_REF outputs (resource tf/dequantize.json.gz, see {@link TfCases}). */
class DequantizeTfReferenceTest {
  @TestFactory Stream<DynamicTest> matchesTfliteReference() { return TfCases.tests("dequantize"); }
}
