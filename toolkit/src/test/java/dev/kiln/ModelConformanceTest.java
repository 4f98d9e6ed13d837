package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.api.Build;
import dev.kiln.api.Executor;
import dev.kiln.api.HostModel;
import dev.kiln.api.Kiln;
import dev.kiln.api.Model;
import dev.kiln.api.Tensor;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every shared model (TFLite and ONNX) and every op fixture (TFLite and ONNX), every sample: load, build for the AoT C
 * interface, compile the generated C with gcc (strict warnings) beside a firmware-style main, run
 * it as a process and compare with the reference engine's outputs — int8 bit-exact, float32
 * within 1e-5 * (|ref| + max|ref|); ONNX QDQ fixtures within one output quantization step of
 * onnxruntime's fused integer kernels (their manifest's tolerance).
 */
class ModelConformanceTest {
  static Stream<Case> sharedModels() { return ReferenceModels.shared("tflite").stream(); }

  static Stream<Case> opFixtures() { return ReferenceModels.opFixtures().stream(); }

  static Stream<Case> sharedOnnxModels() { return ReferenceModels.shared("onnx").stream(); }

  static Stream<Case> onnxFixtures() { return ReferenceModels.onnxFixtures().stream(); }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sharedModels")
  void sharedModelsMatchTheReferenceKernels(Case c, @TempDir Path work) throws Exception {
    assertMatchesReference(c, work);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("opFixtures")
  void opFixturesMatchTheReferenceKernels(Case c, @TempDir Path work) throws Exception {
    assertMatchesReference(c, work);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sharedOnnxModels")
  void sharedOnnxModelsMatchOnnxruntime(Case c, @TempDir Path work) throws Exception {
    assertMatchesReference(c, work);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("onnxFixtures")
  void onnxFixturesMatchOnnxruntime(Case c, @TempDir Path work) throws Exception {
    assertMatchesReference(c, work);
  }

  static void assertMatchesReference(Case c, Path work) throws Exception {
    Model model = Kiln.load(c.modelFile(), c.loadOptions());
    assertEquals(c.inputCount(), model.inputs().size(), "inputs");
    assertEquals(c.outputCount(), model.outputs().size(), "outputs");
    Build build = model.build(Executor.aot().interfaceApi("c").unpackedApi(true));
    HostModel program = build.compileForHost(work);
    List<String> problems = new ArrayList<>();
    assertTrue(!c.samples().isEmpty(), "no samples in " + c.folder());
    // every sample in one process, in order: a model with variables (state) carries it from one to the next
    List<List<Tensor>> steps = new ArrayList<>();
    for (int s : c.samples()) {
      List<Tensor> inputs = new ArrayList<>();
      for (int i = 0; i < c.inputCount(); i++) inputs.add(Tensor.load(c.input(s, i)));
      steps.add(inputs);
    }
    List<List<Tensor>> results = program.runSequence(steps);
    for (int s : c.samples()) {
      List<Tensor> outputs = results.get(s);
      for (int j = 0; j < c.outputCount(); j++) {
        String why = c.mismatch(j, outputs.get(j), Tensor.load(c.output(s, j)));
        if (why != null) problems.add("sample " + s + " output " + j + ": " + why);
      }
    }
    if (!problems.isEmpty()) fail(c.name() + ":\n  " + String.join("\n  ", problems));
  }
}
