package dev.kiln.codegen;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.codegen.kernels.Kernels;
import dev.kiln.compile.CompiledModel;
import dev.kiln.compile.Compiler;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GraphJsonTest {
  /** x:0 -> relu -> t1 -> relu -> t2 -> reshape -> t3 -> relu -> t4 -> relu -> out. */
  static CompiledModel chain() throws Exception {
    Graph.Builder b = Graph.builder("chain", "chain.tflite");
    int x = b.addTensor(Tensor.builder("x:0").shape(1, 4).dtype(DType.FLOAT32));
    int t1 = b.addTensor(Tensor.builder("t1").shape(1, 4).dtype(DType.FLOAT32));
    int t2 = b.addTensor(Tensor.builder("t2").shape(1, 4).dtype(DType.FLOAT32));
    int t3 = b.addTensor(Tensor.builder("t3").shape(2, 2).dtype(DType.FLOAT32));
    int t4 = b.addTensor(Tensor.builder("t4").shape(2, 2).dtype(DType.FLOAT32));
    int out = b.addTensor(Tensor.builder("out").shape(2, 2).dtype(DType.FLOAT32));
    b.addOp(OpType.RELU, new int[] {x}, new int[] {t1}, new Options.None());
    b.addOp(OpType.RELU, new int[] {t1}, new int[] {t2}, new Options.None());
    b.addOp(OpType.RESHAPE, new int[] {t2}, new int[] {t3}, new Options.None());
    b.addOp(OpType.RELU, new int[] {t3}, new int[] {t4}, new Options.None());
    b.addOp(OpType.RELU, new int[] {t4}, new int[] {out}, new Options.None());
    return Compiler.compile(b.inputs(x).outputs(out).build(), Kernels.support());
  }

  @Test void theGraphNamesInputsExactlySharesViewsAndReusesFreedStorage() throws Exception {
    DeviceModelWriter w = new DeviceModelWriter(chain(), ExecutorConfig.graph("default"));
    GraphJson g = w.graphJson().orElseThrow();
    // compact, as microTVM's own graph JSON: no whitespace, so a create call fits the smallest packet
    String op = "\"num_inputs\":\"1\",\"num_outputs\":\"1\",\"flatten_data\":\"0\"},\"inputs\":";
    assertEquals("{\"nodes\":["
        + "{\"op\":\"null\",\"name\":\"x:0\",\"inputs\":[]},"
        + "{\"op\":\"tvm_op\",\"name\":\"t1\",\"attrs\":{\"func_name\":\"tvmgen_default_fused_relu\"," + op + "[[0,0,0]]},"
        + "{\"op\":\"tvm_op\",\"name\":\"t2\",\"attrs\":{\"func_name\":\"tvmgen_default_fused_relu_1\"," + op + "[[1,0,0]]},"
        + "{\"op\":\"tvm_op\",\"name\":\"t3\",\"attrs\":{\"func_name\":\"tvmgen_default_fused_reshape\"," + op + "[[2,0,0]]},"
        + "{\"op\":\"tvm_op\",\"name\":\"t4\",\"attrs\":{\"func_name\":\"tvmgen_default_fused_relu_2\"," + op + "[[3,0,0]]},"
        + "{\"op\":\"tvm_op\",\"name\":\"out\",\"attrs\":{\"func_name\":\"tvmgen_default_fused_relu_3\"," + op + "[[4,0,0]]}"
        + "],"
        + "\"arg_nodes\":[0],"
        + "\"heads\":[[5,0,0]],"
        + "\"attrs\":{"
        + "\"dltype\":[\"list_str\",[\"float32\",\"float32\",\"float32\",\"float32\",\"float32\",\"float32\"]],"
        + "\"storage_id\":[\"list_int\",[0,1,2,2,1,3]],"
        + "\"shape\":[\"list_shape\",[[1,4],[1,4],[1,4],[2,2],[2,2],[2,2]]]"
        + "},"
        + "\"node_row_ptr\":[0,1,2,3,4,5,6]"
        + "}", g.text());
    assertArrayEquals(new long[] {16, 16, 16, 16}, g.poolBytes());
    assertEquals(List.of("tvmgen_default_fused_relu", "tvmgen_default_fused_relu_1", "tvmgen_default_fused_reshape",
        "tvmgen_default_fused_relu_2", "tvmgen_default_fused_relu_3", "tvmgen_default_get_c_metadata"),
        w.systemLibraryFunctions());
  }

  @Test void theParamsBlobIsEmptyButValid() {
    assertEquals("b79c04054f8de5f7" + "0000000000000000" + "0000000000000000" + "0000000000000000",
        HexFormat.of().formatHex(GraphJson.emptyParams()));
  }

  @Test void aotNamesItsEntryAndKeepsTheCFunctionForFirmware() throws Exception {
    DeviceModelWriter c = new DeviceModelWriter(chain(), ExecutorConfig.aot("c", false, "default"));
    assertEquals(List.of("tvmgen_default_run", "tvmgen_default_get_c_metadata", "tvmgen_default___tvm_main__",
        "tvmgen_default_fused_relu", "tvmgen_default_fused_relu_1", "tvmgen_default_fused_relu_2",
        "tvmgen_default_fused_relu_3"), c.systemLibraryFunctions());
    String lib2 = text(c, "src/default_lib2.c");
    // microTVM's registry: LE uint16 count, NUL-terminated names; Kiln's table points into the same names
    assertContains(lib2, "static const char kFunctionNames[] =\n    \"\\x07\" \"\\x00\"\n    \"tvmgen_default_run\\0\"\n");
    assertContains(lib2, "static const kiln_packed_fn kFunctionPointers[7] = {\n  tvmgen_default_run_packed,\n");
    assertContains(lib2, "{kFunctionNames + 2, tvmgen_default_run_packed},\n  {kFunctionNames + 21, tvmgen_default_get_c_metadata},");
    assertContains(lib2, "const kiln_tvm_module *TVMSystemLibEntryPoint(void) { return &kTvmSystemLib; }");
    assertContains(text(c, "include/tvmgen_default.h"),
        "int32_t tvmgen_default_run(struct tvmgen_default_inputs *inputs, struct tvmgen_default_outputs *outputs);");
    DeviceModelWriter packed = new DeviceModelWriter(chain(), ExecutorConfig.aot("packed", true, "default"));
    assertEquals(List.of("tvmgen_default_run", "tvmgen_default_get_c_metadata"), packed.systemLibraryFunctions());
    assertContains(text(packed, "src/default_lib2.c"), "{kFunctionNames + 2, tvmgen_default_run},");
    assertContains(text(packed, "include/tvmgen_default_packed.h"), "int32_t tvmgen_default___tvm_main__(void *in0, void *out0);");
  }

  @Test void metadataIsCompleteUnderTheCInterfaceToo() throws Exception {
    String lib2 = text(new DeviceModelWriter(chain(), ExecutorConfig.aot("c", true, "default")), "src/default_lib2.c");
    assertContains(lib2, "  kTvmgenMetadata_inputs, 1,\n  kTvmgenMetadata_outputs, 1,\n");
    assertContains(lib2, "{\"x_0\", kTvmgenMetadata_inputs_0_shape, 2, {2, 32, 1}}");
    assertContains(lib2, "{\"x:0\", \"x_0\", 16, 0, 0, 0.0f}");
    assertContains(lib2, "  \"aot\",\n  \"c\",\n  1,\n  5,\n  \"tvmgen_default_run\",\n");
  }

  @Test void aConstantModelOutputIsRefusedForTheGraphExecutorWithAReason() throws Exception {
    Graph.Builder b = Graph.builder("const", "const.tflite");
    int x = b.addTensor(Tensor.builder("x").shape(1, 4).dtype(DType.FLOAT32));
    int y = b.addTensor(Tensor.builder("y").shape(1, 4).dtype(DType.FLOAT32));
    int k = b.addTensor(Tensor.builder("k").shape(1).dtype(DType.FLOAT32).data(new byte[4]));
    b.addOp(OpType.RELU, new int[] {x}, new int[] {y}, new Options.None());
    CompiledModel m = Compiler.compile(b.inputs(x).outputs(y, k).build(), Kernels.support());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new DeviceModelWriter(m, ExecutorConfig.graph("default")));
    assertEquals("model output k is a constant; the graph executor needs every output to be written by an op or to be a "
        + "model input", e.getMessage());
  }

  @Test void aRegistryOverC99sLongestStringLiteralIsWrittenAsCharactersAndCompilesStrictly(@TempDir java.nio.file.Path dir)
      throws Exception {
    // 400 operators: their names alone are over 4,095 bytes, the longest literal C99 promises
    Graph.Builder b = Graph.builder("long", "long.tflite");
    int prev = b.addTensor(Tensor.builder("x").shape(1, 4).dtype(DType.FLOAT32));
    int x = prev;
    for (int i = 0; i < 400; i++) {
      int next = b.addTensor(Tensor.builder("t" + i).shape(1, 4).dtype(DType.FLOAT32));
      b.addOp(OpType.RELU, new int[] {prev}, new int[] {next}, new Options.None());
      prev = next;
    }
    DeviceModelWriter w = new DeviceModelWriter(Compiler.compile(b.inputs(x).outputs(prev).build(), Kernels.support()),
        ExecutorConfig.graph("default"));
    String lib2 = text(w, "src/default_lib2.c");
    assertContains(lib2, "static const char kFunctionNames[");
    assertContains(lib2, "(char)0x91, (char)0x01,"); // 401 functions (400 operators, the metadata getter), little-endian
    assertContains(lib2, "'t', 'v', 'm', 'g', 'e', 'n', '_', 'd', 'e', 'f', 'a', 'u', 'l', 't', '_', 'f', 'u', 's', 'e', 'd', '_',"
        + " 'r', 'e', 'l', 'u', 0,");
    for (GeneratedFile f : w.files()) {
      java.nio.file.Path out = dir.resolve(f.path());
      java.nio.file.Files.createDirectories(out.getParent());
      java.nio.file.Files.writeString(out, f.text());
    }
    java.nio.file.Path c = java.nio.file.Path.of("src/main/c");
    List<String> cmd = new java.util.ArrayList<>(List.of("gcc", "-fsyntax-only"));
    cmd.addAll(dev.kiln.project.CWarnings.STRICT);
    cmd.addAll(List.of("-I", dir.resolve("include").toString(), "-I", c.resolve("crt").toString(), "-I",
        c.resolve("executors").toString(), "-I", c.resolve("kernels").toString(), dir.resolve("src/default_lib2.c").toString()));
    Process gcc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String log = new String(gcc.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(gcc.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "gcc within two minutes");
    assertEquals(0, gcc.exitValue(), log);
  }

  static String text(DeviceModelWriter w, String path) {
    return w.files().stream().filter(f -> f.path().equals(path)).findFirst().orElseThrow().text();
  }

  static void assertContains(String text, String part) {
    if (!text.contains(part)) throw new AssertionError("missing:\n" + part + "\nin:\n" + text);
  }
}
