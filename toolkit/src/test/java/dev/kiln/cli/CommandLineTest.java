package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.testing.ReferenceModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kiln command as scripts call it: exit status, one-line errors on stderr, nothing half-written. */
class CommandLineTest {
  record Result(int status, String out, String err) {}

  static Result kiln(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Result(status, out.toString(), err.toString());
  }

  static Path seed() {
    return ReferenceModels.shared("tflite", "digits_cnn_int8").modelFile();
  }

  @Test
  void infoShowsBothNamesShapesQuantizationOpsWeightsAndArena() {
    Result r = kiln("info", seed().toString());
    assertEquals(0, r.status(), r.err());
    assertTrue(r.out().contains("0: predict_images:0 (C: predict_images_0) [1,8,8,1] int8 scale=0.003921569 zero_point=-128"), r.out());
    assertTrue(r.out().contains("0: StatefulPartitionedCall:0 (C: StatefulPartitionedCall_0) [1,10] int8 scale=0.00390625 zero_point=-128"), r.out());
    assertTrue(r.out().contains("CONV_2D              2"), r.out());
    assertTrue(r.out().contains("weights: 10008 bytes"), r.out());
    assertTrue(r.out().contains("arena: "), r.out());
  }

  @Test
  void compileWritesTheCInterfaceTree(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    Result r = kiln("compile", seed().toString(), "--executor", "aot", "--interface-api", "c", "--unpacked-api", "-o", out.toString());
    assertEquals(0, r.status(), r.err());
    String header = Files.readString(out.resolve("codegen/host/include/tvmgen_default.h"));
    assertTrue(header.contains("struct tvmgen_default_inputs {\n  void *predict_images_0;\n};"), header);
    assertTrue(header.contains("#define TVMGEN_DEFAULT_INPUT0_NAME \"predict_images:0\""), header);
    assertTrue(header.contains("#define TVMGEN_DEFAULT_PREDICT_IMAGES_0_SIZE 64"), header);
    assertTrue(header.contains("int32_t tvmgen_default_run(struct tvmgen_default_inputs *inputs, struct tvmgen_default_outputs *outputs);"));
    assertTrue(Files.exists(out.resolve("metadata.json")));
  }

  @Test
  void moduleNameChangesEverySymbol(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    Result r = kiln("compile", seed().toString(), "--unpacked-api", "--module-name", "digits", "-o", out.toString());
    assertEquals(0, r.status(), r.err());
    String header = Files.readString(out.resolve("codegen/host/include/tvmgen_digits.h"));
    assertTrue(header.contains("int32_t tvmgen_digits_run(struct tvmgen_digits_inputs *inputs"), header);
    assertTrue(Files.exists(out.resolve("codegen/host/src/digits_lib0.c")));
  }

  @Test
  void everyCommandHasHelp() {
    for (String cmd : new String[] {"info", "compile", "verify", "bench"}) {
      Result r = kiln(cmd, "--help");
      assertEquals(0, r.status(), cmd);
      assertTrue(r.out().startsWith("Usage: kiln " + cmd), r.out());
    }
  }

  @Test
  void aMissingFileIsOneLineOnStderrWithStatusOne() {
    Result r = kiln("info", "/nonexistent/model.tflite");
    assertEquals(1, r.status());
    assertEquals("kiln: error: /nonexistent/model.tflite: no such file\n", r.err());
    assertFalse(r.err().contains("\tat "), "no stack trace");
  }

  @Test
  void aFileThatIsNotAModelSaysSo(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("notes.tflite");
    Files.writeString(f, "these are not weights, just some text\n");
    Result r = kiln("info", f.toString());
    assertEquals(1, r.status());
    assertTrue(r.err().startsWith("kiln: error: " + f), r.err());
    assertTrue(r.err().contains("TFL3"), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
  }

  @Test
  void aTruncatedModelLeavesNoOutputFolderBehind(@TempDir Path tmp) throws Exception {
    byte[] bytes = Files.readAllBytes(seed());
    Path f = tmp.resolve("cut.tflite");
    Files.write(f, Arrays.copyOf(bytes, bytes.length / 2));
    Path out = tmp.resolve("out");
    Result r = kiln("compile", f.toString(), "--unpacked-api", "-o", out.toString());
    assertEquals(1, r.status());
    assertTrue(r.err().startsWith("kiln: error: " + f), r.err());
    assertFalse(r.err().contains("\tat "), r.err());
    assertFalse(Files.exists(out), "no partial output folder");
    try (var s = Files.list(tmp)) {
      assertEquals(1, s.count(), "no staging folder left behind either");
    }
  }

  @Test
  void compileForTheGraphExecutorWritesTheGraphJsonWithTheModelsOwnNames(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("g");
    Result r = kiln("compile", seed().toString(), "--executor", "graph", "-o", out.toString());
    assertEquals(0, r.status(), r.err());
    String graph = Files.readString(out.resolve("executor-config/graph/default.graph"));
    assertTrue(graph.contains("\"predict_images:0\""), graph);
    assertTrue(Files.exists(out.resolve("codegen/host/src/default_lib1.c")));
  }

  @Test
  void verifyRunsTheSeedModelOnTheHostAndMatchesTheReference() {
    Result r = kiln("verify", seed().toString());
    assertEquals(0, r.status(), r.out() + r.err());
    assertEquals(9, r.out().lines().filter(l -> l.trim().equals("MATCH")).count(), "3 samples x (C interface, graph, AoT): " + r.out());
    assertTrue(r.out().contains("3 sample(s), all outputs match the reference"), r.out());
  }

  @Test
  void runWritesOutputsByModelOrderForAnInputGivenByEitherName(@TempDir Path tmp) throws Exception {
    var seedCase = ReferenceModels.shared("tflite", "digits_cnn_int8");
    for (String name : new String[] {"predict_images:0", "predict_images_0"}) {
      Path out = tmp.resolve(name.replace(':', '-'));
      Result r = kiln("run", seed().toString(), "--executor", "aot", "--interface-api", "c", "--unpacked-api", "--device", "host",
          "--input", name + "=" + seedCase.input(1, 0), "-o", out.toString());
      assertEquals(0, r.status(), r.err());
      assertEquals(dev.kiln.api.Tensor.load(seedCase.output(1, 0)), dev.kiln.api.Tensor.load(out.resolve("output0.npy")));
      String json = Files.readString(out.resolve("outputs.json"));
      assertTrue(json.contains("\"name\" : \"StatefulPartitionedCall:0\""), json);
      assertTrue(json.contains("\"c_name\" : \"StatefulPartitionedCall_0\""), json);
    }
  }

  @Test
  void runWithAWrongInputNameListsTheInputsAndFailsBeforeTheDeviceStarts(@TempDir Path tmp) {
    var seedCase = ReferenceModels.shared("tflite", "digits_cnn_int8");
    Result r = kiln("run", seed().toString(), "--executor", "graph", "--input", "image=" + seedCase.input(0, 0), "-o", tmp.resolve("o").toString());
    assertEquals(1, r.status());
    assertTrue(r.err().startsWith("kiln: error: no input named 'image'; the model's inputs are:"), r.err());
    assertTrue(r.err().contains("predict_images:0 (C: predict_images_0) [1,8,8,1] int8"), r.err());
  }

  @Test
  void everyBadModelIsOneSentenceOnStderrAndNoOutputFolder(@TempDir Path tmp) throws Exception {
    String[][] cases = {
        {"unsupported_op.tflite", "operator #0 BUCKETIZE (builtin code 147) is not supported by Kiln"},
        // family: control flow (ctrl-flow): several subgraphs load now; what control flow still refuses
        {"../control-bad/while_growing.tflite", "subgraph 0 operator #0 (WHILE): loop value 1"},
        {"../control-bad/while_body_unsupported.tflite", "subgraph 2 (the body of WHILE operator #0 in subgraph 0): operator #1 BUCKETIZE"},
        {"dynamic_shape.tflite", "has a dynamic dimension"},
        {"truncated.tflite", "truncated or corrupt"},
        {"bad_identifier.tflite", "not a TFLite model"}};
    for (String[] c : cases) {
      Path model = Path.of("src/test/resources/bad", c[0]);
      Path out = tmp.resolve(c[0] + ".out");
      Result r = kiln("compile", model.toString(), "--unpacked-api", "-o", out.toString());
      assertEquals(1, r.status(), c[0]);
      assertTrue(r.err().startsWith("kiln: error: " + model + ": "), r.err());
      assertTrue(r.err().contains(c[1]), r.err());
      assertEquals(1, r.err().lines().count(), r.err());
      assertFalse(Files.exists(out), c[0] + ": no output folder");
    }
  }
}
