package dev.kiln.codegen.kernels;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** QUANTIZE against TensorFlow 2.21 BUILTIN_REF outputs (resource tf/quantize.json.gz, see {@link TfCases}). */
class QuantizeTfReferenceTest {
  @TestFactory Stream<DynamicTest> matchesTfliteReference() { return TfCases.tests("quantize"); }
}
