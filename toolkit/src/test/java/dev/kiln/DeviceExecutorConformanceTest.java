package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.codegen.DeviceModelWriter;
import dev.kiln.codegen.ExecutorConfig;
import dev.kiln.codegen.GraphJson;
import dev.kiln.codegen.kernels.Kernels;
import dev.kiln.compile.CompiledModel;
import dev.kiln.ir.Graph;
import dev.kiln.project.DeviceProgram;
import dev.kiln.rpc.DataType;
import dev.kiln.rpc.Device;
import dev.kiln.rpc.RemoteException;
import dev.kiln.rpc.RemoteFunction;
import dev.kiln.rpc.RemoteModule;
import dev.kiln.rpc.RemoteNDArray;
import dev.kiln.rpc.RpcClient;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import dev.kiln.transport.Transport;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Models run on the host device program (runtime + executors + generated system library, built by
 * {@link DeviceProgram} and driven over its pipes with {@link RpcClient}), through the graph executor
 * and the AoT executor with every interface-api x unpacked-api combination, exactly as a microTVM host
 * drives a device: create the executor remotely, set each input (by its exact model name and by its
 * C name, with set_input and with get_input plus a copy), run, get_output, compare with the reference
 * engine: int8 bit-exact, float32 within 1e-5 * (|ref| + max|ref|). Programs are cached by content
 * in {@code <tmp>/kiln-device-test-cache}, so a second run compiles nothing.
 */
class DeviceExecutorConformanceTest {
  static final Path CACHE = Path.of(System.getProperty("java.io.tmpdir"), "kiln-device-test-cache");
  static final List<ExecutorConfig> EXECUTORS = List.of(
      ExecutorConfig.graph("default"),
      ExecutorConfig.aot("packed", false, "default"),
      ExecutorConfig.aot("packed", true, "default"),
      ExecutorConfig.aot("c", true, "default"),
      ExecutorConfig.aot("c", false, "default"));
  /** Op fixtures that stress the executors: name collisions, several inputs and outputs, views, scratch, mixed dtypes. */
  static final List<String> OP_FIXTURES = List.of("name_collision_int8", "requantize_int8", "concat_axis1_float",
      "reshape_int8", "hybrid_conv_batch2_float", "softmax_large_int8", "quantize_float_in_int8",
      "dequantize_float_out_int8",
      // family: data movement (ops-movement): folded Keras reshapes, several outputs, run-time int indices
      "keras_reshape_flatten_int8", "split_v_int8", "gather_axis1_rt_float32",
      // family: control flow (ctrl-flow): a Keras LSTM's WHILE loop, a data-dependent loop with two outputs, an int8 IF
      "lstm_kws_float", "while_data_float", "cond_int8",
      // family: int8 LSTM (lstm-int8): two stateful ops, state carried across the samples run in order
      "lstm8_stacked_int8",
      // family: TFLite leftovers (tflite): LSTM layer norm + peephole + projection (int8, float), int8 DIV
      "lstm8_all_forms_int8", "lstm_all_forms_float", "div_int8");
  /** ONNX fixtures that stress the executors: names, NCHW boundaries, QDQ int8 kernels, external data, load options. */
  static final List<String> ONNX_FIXTURES = List.of("names_and_typed_data", "rgb_cnn", "qdq_cnn_s8", "qdq_cnn_u8_per_tensor",
      "external_data", "dynamic_batch", "softmax_opset13_axes", "qdq_data_movement",
      // family: onnx (onnx-ops2): a 3-D Conv/MaxPool chain, TopK's float and int64 outputs, run-time GatherElements
      "conv3d_depthwise_relu_pool", "topk_nhwc_channels", "gather_elements_runtime_nhwc",
      // family: onnx (qdq): onnxruntime's fused QDQ kernels (QLinearAdd/Mul, pools, softmax, matmul), uint8 in and out
      "qdq_squeeze_excite_s8", "qdq_qlinear_matmul",
      // family: onnx (intarith): integer arithmetic with ten outputs (bool among them), broadcast; Div/Mod on int8
      "int_elementwise_int64", "int_div_mod_int8");
  private static final Map<String, CompiledModel> COMPILED = new ConcurrentHashMap<>();

  static Stream<Arguments> sharedModels() {
    return Stream.concat(ReferenceModels.shared("tflite").stream(), ReferenceModels.shared("onnx").stream())
        .flatMap(c -> EXECUTORS.stream().map(e -> Arguments.of(c, e)));
  }

  static Stream<Arguments> onnxFixtures() {
    return ReferenceModels.onnxFixtures().stream().filter(c -> ONNX_FIXTURES.contains(c.name()))
        .flatMap(c -> EXECUTORS.stream().map(e -> Arguments.of(c, e)));
  }

  static Stream<Arguments> opFixtures() {
    return ReferenceModels.opFixtures().stream().filter(c -> OP_FIXTURES.contains(c.name()))
        .flatMap(c -> EXECUTORS.stream().map(e -> Arguments.of(c, e)));
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("sharedModels")
  void sharedModelsRunOnTheDeviceAndMatchTheReference(Case c, ExecutorConfig executor) throws Exception {
    assertRunsOnDevice(c, executor);
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("opFixtures")
  void opFixturesRunOnTheDeviceAndMatchTheReference(Case c, ExecutorConfig executor) throws Exception {
    assertRunsOnDevice(c, executor);
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("onnxFixtures")
  void onnxFixturesRunOnTheDeviceAndMatchOnnxruntime(Case c, ExecutorConfig executor) throws Exception {
    assertRunsOnDevice(c, executor);
  }

  // ---- the conformance loop -----------------------------------------------------------------

  static CompiledModel compiled(Case c) {
    return COMPILED.computeIfAbsent(c.folder().toString(), k -> {
      try {
        return dev.kiln.compile.Compiler.compile(Kiln.load(c.modelFile(), c.loadOptions()).graph(), Kernels.support());
      } catch (Exception e) {
        throw new IllegalStateException(c.name() + ": " + e.getMessage(), e);
      }
    });
  }

  /** A built device program and what the test needs to drive it. */
  record Program(CompiledModel model, DeviceModelWriter writer, DeviceProgram program) {
    Graph graph() { return model.graph(); }

    RpcClient start() throws Exception {
      return RpcClient.open(Transport.process(List.of(program.executable().toString())));
    }

    RemoteModule createExecutor(RpcClient rpc) throws Exception {
      Object m = writer.config().isGraph()
          ? rpc.getGlobalFunction("tvm.graph_executor.create").call(writer.graphJson().orElseThrow().text(), rpc.systemLib(), 1L, 0L)
          : rpc.getGlobalFunction("tvm.aot_executor.create").call(rpc.systemLib(), Device.CPU, "default");
      return assertInstanceOf(RemoteModule.class, m);
    }
  }

  static Program program(Case c, ExecutorConfig executor) throws Exception {
    CompiledModel model = compiled(c);
    DeviceModelWriter writer = new DeviceModelWriter(model, executor);
    DeviceProgram p = DeviceProgram.build(writer, CACHE);
    return new Program(model, writer, p);
  }

  static DataType dataType(dev.kiln.ir.Tensor t) {
    int[] dl = DeviceModelWriter.dlType(t.dtype());
    return new DataType(dl[0], dl[1], 1);
  }

  static long[] longShape(dev.kiln.ir.Tensor t) {
    long[] s = new long[t.rank()];
    for (int d = 0; d < s.length; d++) s[d] = t.dim(d);
    return s;
  }

  static void assertRunsOnDevice(Case c, ExecutorConfig executor) throws Exception {
    Program p = program(c, executor);
    Graph g = p.graph();
    List<String> problems = new ArrayList<>();
    try (RpcClient rpc = p.start()) {
      RemoteModule ex = p.createExecutor(rpc);
      // complete metadata, both names of every input and output
      assertEquals(g.inputs().size(), ex.getFunction("get_num_inputs").callLong(), "get_num_inputs");
      assertEquals(g.outputs().size(), ex.getFunction("get_num_outputs").callLong(), "get_num_outputs");
      RemoteFunction inputName = ex.getFunction("get_input_name");
      RemoteFunction inputIndex = ex.getFunction("get_input_index");
      for (int i = 0; i < g.inputs().size(); i++) {
        dev.kiln.ir.Tensor t = g.inputs().get(i);
        assertEquals(t.name(), inputName.call((long) i, 1L), "model name of input " + i);
        assertEquals(t.cName(), inputName.call((long) i, 0L), "C name of input " + i);
        assertEquals(executor.isGraph() ? t.name() : t.cName(), inputName.call((long) i), "TVM's name of input " + i);
        assertEquals((long) i, inputIndex.call(t.name()), "get_input_index(" + t.name() + ")");
        assertEquals((long) i, inputIndex.call(t.cName()), "get_input_index(" + t.cName() + ")");
      }
      RemoteFunction outputName = ex.getFunction("get_output_name");
      for (int j = 0; j < g.outputs().size(); j++) {
        assertEquals(g.outputs().get(j).name(), outputName.call((long) j), "model name of output " + j);
        assertEquals(g.outputs().get(j).cName(), outputName.call((long) j, 0L), "C name of output " + j);
      }
      RemoteFunction setInput = ex.getFunction("set_input");
      RemoteFunction getInput = ex.getFunction("get_input");
      RemoteFunction run = ex.getFunction("run");
      RemoteFunction getOutput = ex.getFunction("get_output");
      for (int s : c.samples()) {
        for (int i = 0; i < g.inputs().size(); i++) {
          dev.kiln.ir.Tensor t = g.inputs().get(i);
          byte[] data = Tensor.load(c.input(s, i)).bytes();
          if ((s + i) % 2 == 0) {
            // set_input by the exact model name, from an array allocated on the device
            try (RemoteNDArray a = rpc.array(data, longShape(t), dataType(t))) {
              assertNull(setInput.call(t.name(), a));
            }
          } else {
            // the microTVM way, by C name: get_input, then copy into the returned array
            try (RemoteNDArray a = assertInstanceOf(RemoteNDArray.class, getInput.call(t.cName()))) {
              a.copyFrom(data);
            }
          }
        }
        assertNull(run.call());
        for (int j = 0; j < g.outputs().size(); j++) {
          dev.kiln.ir.Tensor t = g.outputs().get(j);
          byte[] bytes;
          try (RemoteNDArray a = assertInstanceOf(RemoteNDArray.class, getOutput.call((long) j))) {
            bytes = a.toByteArray();
          }
          String why = c.mismatch(j, Tensor.of(t.dtype(), t.shape(), bytes), Tensor.load(c.output(s, j)));
          if (why != null) problems.add("sample " + s + " output " + j + ": " + why);
        }
      }
      rpc.shutdown();
    }
    if (!problems.isEmpty()) fail(c.name() + " on " + executor + ":\n  " + String.join("\n  ", problems));
  }

  // ---- errors are answers, never crashes ----------------------------------------------------

  static Program digits(ExecutorConfig executor) throws Exception {
    return program(ReferenceModels.shared("tflite", "digits_cnn_int8"), executor);
  }

  static String deviceError(RemoteFunction f, Object... args) {
    return assertThrows(RemoteException.class, () -> f.call(args)).deviceMessage();
  }

  @Test void wrongNamesIndicesAndArgumentsAreErrorsAndTheDeviceKeepsServing() throws Exception {
    for (ExecutorConfig executor : List.of(ExecutorConfig.graph("default"), ExecutorConfig.aot("c", true, "default"))) {
      Program p = digits(executor);
      String kind = executor.isGraph() ? "graph" : "model";
      try (RpcClient rpc = p.start()) {
        RemoteModule ex = p.createExecutor(rpc);
        RemoteFunction getInput = ex.getFunction("get_input");
        assertEquals("get_input: the " + kind + " has no input named 'images'", deviceError(getInput, "images"));
        assertEquals("get_input: input index 1 is out of range: the " + kind + " has 1 input", deviceError(getInput, 1L));
        assertEquals("get_input: input index -1 is out of range: the " + kind + " has 1 input", deviceError(getInput, -1L));
        assertEquals("get_input expects an input index (Int) or name (Str) as argument 0, got type code 2",
            deviceError(getInput, 1.5));
        assertEquals("get_input expects 1 argument (Int index or Str name), got 0 arguments", deviceError(getInput));
        assertEquals("get_output: output index 1 is out of range: the " + kind + " has 1 output",
            deviceError(ex.getFunction("get_output"), 1L));
        assertEquals(-1L, ex.getFunction("get_input_index").call("images"));
        RemoteFunction setInput = ex.getFunction("set_input");
        try (RemoteNDArray small = rpc.array(new byte[3], new long[] {3}, DataType.INT8);
             RemoteNDArray floats = rpc.array(new byte[256], new long[] {1, 8, 8, 1}, DataType.FLOAT32)) {
          assertEquals("set_input of input 0 (predict_images:0): the array is int8[3] (3 bytes), expected int8[1, 8, 8, 1] "
              + "(64 bytes)", deviceError(setInput, "predict_images:0", small));
          assertEquals("set_input of input 0 (predict_images:0): the array is float32, expected int8",
              deviceError(setInput, 0L, floats));
        }
        assertEquals("set_input expects an array (DLTensor) as argument 1, got type code 0", deviceError(setInput, 0L, 5L));
        // still serving: a full inference works
        try (RemoteNDArray in = rpc.array(new byte[64], new long[] {1, 8, 8, 1}, DataType.INT8)) {
          assertNull(setInput.call("predict_images_0", in));
        }
        assertNull(ex.getFunction("run").call());
        try (RemoteNDArray out = assertInstanceOf(RemoteNDArray.class, ex.getFunction("get_output").call(0L))) {
          assertEquals(10, out.toByteArray().length);
        }
        rpc.shutdown();
      }
    }
  }

  @Test void aSecondExecutorOrAMissingMetadataGetterIsAClearError() throws Exception {
    Program p = digits(ExecutorConfig.aot("packed", false, "default"));
    try (RpcClient rpc = p.start()) {
      RemoteFunction aot = rpc.getGlobalFunction("tvm.aot_executor.create");
      assertEquals("tvm.aot_executor.create: the system library has no function tvmgen_nosuch_get_c_metadata "
          + "(its metadata getters: tvmgen_default_get_c_metadata)", deviceError(aot, rpc.systemLib(), Device.CPU, "nosuch"));
      assertEquals("tvm.aot_executor.create: device {2, 0} does not exist; this device is {1, 0} (CPU)",
          deviceError(aot, rpc.systemLib(), new Device(2, 0), "default"));
      assertEquals("tvm.aot_executor.create expects 3 arguments (Module system_lib, Device {1, 0}, Str module_name), "
          + "got 2 arguments", deviceError(aot, rpc.systemLib(), Device.CPU));
      RemoteModule first = p.createExecutor(rpc);
      assertEquals(0x8001L, first.handle());
      assertEquals("tvm.aot_executor.create: this device already has an executor (aot_executor, module 0x8001); one "
          + "executor per boot: restart the device to create another", deviceError(aot, rpc.systemLib(), Device.CPU, "default"));
      assertEquals("tvm.graph_executor.create: this device already has an executor (aot_executor, module 0x8001); one "
          + "executor per boot: restart the device to create another",
          deviceError(rpc.getGlobalFunction("tvm.graph_executor.create"), "{}", rpc.systemLib(), 1L, 0L));
      assertEquals(1L, first.getFunction("get_num_inputs").callLong());
      rpc.shutdown();
    }
  }

  @Test void graphJsonErrorsNameTheField() throws Exception {
    Program p = digits(ExecutorConfig.graph("default"));
    String good = p.writer().graphJson().orElseThrow().text();
    Map<String, String> cases = new java.util.LinkedHashMap<>();
    cases.put("[]", "top level: expected '{' (the graph is a JSON object) (byte 0)");
    cases.put("{\"nodes\": []", "top level: expected ',' or '}' (byte 12)");
    cases.put(good.replace("\"arg_nodes\"", "\"arg_nodez\""), "top level: missing required field \"arg_nodes\"");
    cases.put(good.replace("\"func_name\"", "\"func_nam\""), "nodes[1]: a tvm_op needs attrs.func_name");
    cases.put(good.replaceFirst("\"num_inputs\":\"1\"", "\"num_inputs\":\"one\""),
        "nodes[1].attrs.num_inputs: expected an integer, found \"one\"");
    cases.put(good.replaceFirst("\"num_inputs\":\"1\"", "\"num_inputs\":\"2\""),
        "nodes[1]: attrs.num_inputs is 2 but inputs has 1 entries");
    cases.put(good.replace("\"op\":\"null\"", "\"op\":\"input\""), "nodes[0].op: expected \"null\" or \"tvm_op\", found \"input\"");
    cases.put(good.replace("\"list_shape\"", "\"list_int\""), "attrs.shape: the type tag is \"list_int\"; expected \"list_shape\"");
    cases.put(good.replaceFirst("\"int8\"", "\"int7x\""), "attrs.dltype[0]: unknown dtype \"int7x\"; expected e.g. int8, uint8, int32, float32");
    cases.put(good.replaceFirst("\\[\\[0,0,0\\]\\]", "[[5,0,0]]"), "nodes[1].inputs[0]: node 5 is not an earlier node");
    cases.put(good.replaceFirst("\"heads\":\\[\\[(\\d+),0,0\\]\\]", "\"heads\":[[$1,3,0]]"),
        "heads[0]: node " + (p.graph().ops().size()) + " has 1 output(s); output index 3 does not exist");
    cases.put(good.replaceFirst("\"node_row_ptr\":\\[0,", "\"node_row_ptr\":[0,0,"),
        "node_row_ptr: has " + (p.graph().ops().size() + 3) + " items; with " + (p.graph().ops().size() + 1)
            + " nodes it needs " + (p.graph().ops().size() + 2));
    cases.put(good.replace("\"storage_id\":[\"list_int\",[0", "\"storage_id\":[\"list_int\",[-1"),
        "attrs.storage_id[0]: an integer -1 is out of range 0..134217727");
    cases.put(good.replaceFirst("\"nodes\":\\[", "\"nodes\":[" + "[".repeat(70) + "]".repeat(70) + ","),
        "nodes[0]: expected '{' (a node object)");
    cases.put(good.replaceFirst("\\{", "{\"metadata\": " + "[".repeat(70) + "]".repeat(70) + ","),
        "top level: values nested deeper than 64 levels");
    cases.put(good.replace("predict_images:0", "predict\\u0000images"), "nodes[0].name: invalid \\u escape (a lone surrogate or \\u0000)");
    cases.put(good.replaceFirst("_fused_conv_2d\"", "_fused_nope\""), null);
    try (RpcClient rpc = p.start()) {
      RemoteFunction create = rpc.getGlobalFunction("tvm.graph_executor.create");
      for (Map.Entry<String, String> e : cases.entrySet()) {
        String message = deviceError(create, e.getKey(), rpc.systemLib(), 1L, 0L);
        if (e.getValue() == null) {
          assertEquals("tvm.graph_executor.create: nodes[1] (" + p.graph().ops().get(0).output().name()
              + ") calls tvmgen_default_fused_nope, which the system library (default) does not have", message);
          continue;
        }
        String want = "tvm.graph_executor.create: graph JSON, " + e.getValue();
        assertTrue(message.equals(want) || message.startsWith(want + " (byte "), "got: " + message + "\nwant: " + want);
      }
      // after all that, the good graph still loads and runs
      RemoteModule ex = p.createExecutor(rpc);
      assertNull(ex.getFunction("run").call());
      rpc.shutdown();
    }
  }

  @Test void graphLoadParamsTakesTheEmptyBlobAndRejectsOthersByName() throws Exception {
    Program p = digits(ExecutorConfig.graph("default"));
    try (RpcClient rpc = p.start()) {
      RemoteModule ex = p.createExecutor(rpc);
      RemoteFunction load = ex.getFunction("load_params");
      assertNull(load.call((Object) GraphJson.emptyParams()));
      assertEquals("load_params: the blob (3 bytes) does not start with the params magic 0xf7e58d4f05049cb7",
          deviceError(load, (Object) new byte[3]));
      // one array named p0, which the graph does not have (Kiln links constants)
      ByteBuffer b = ByteBuffer.allocate(200).order(ByteOrder.LITTLE_ENDIAN);
      b.putLong(0xF7E58D4F05049CB7L).putLong(0).putLong(1).putLong(2).put("p0".getBytes()).putLong(1);
      b.putLong(0xDD5E40F096B4A13FL).putLong(0).putInt(1).putInt(0).putInt(1).put(new byte[] {0, 8, 1, 0}).putLong(2)
          .putLong(2).put(new byte[] {1, 2});
      byte[] blob = java.util.Arrays.copyOf(b.array(), b.position());
      assertEquals("load_params: parameter 'p0' is not an input of the graph", deviceError(load, (Object) blob));
      rpc.shutdown();
    }
  }

  @Test void theTimeEvaluatorTimesTheExecutorsRunOnTheDevice() throws Exception {
    for (ExecutorConfig executor : List.of(ExecutorConfig.graph("default"), ExecutorConfig.aot("packed", true, "default"))) {
      Program p = digits(executor);
      try (RpcClient rpc = p.start()) {
        RemoteModule ex = p.createExecutor(rpc);
        Object timer = rpc.getGlobalFunction("runtime.RPCTimeEvaluator")
            .call(ex, "run", 1L, 0L, 5L, 3L, 0L, 100L, 0L, 1L, 0L, "");
        byte[] seconds = assertInstanceOf(byte[].class, assertInstanceOf(RemoteFunction.class, timer).call());
        assertEquals(24, seconds.length);
        double first = ByteBuffer.wrap(seconds).order(ByteOrder.LITTLE_ENDIAN).getDouble();
        assertTrue(first > 0 && first < 1, "mean seconds per run: " + first);
        rpc.shutdown();
      }
    }
  }

  @Test void aotMainCallsEachOpBodyAndItsPackedOperatorsStillCheckTheirArguments() throws Exception {
    Program aot = digits(ExecutorConfig.aot("packed", false, "default"));
    String lib1 = lib1(aot);
    String main = lib1.substring(lib1.indexOf("int tvmgen_default___tvm_main__("));
    // the model's tensors are checked once, on entry: no DLTensor built and checked again per op (issue 12)
    assertTrue(main.contains("op0_body(in0, "), main);
    assertFalse(main.contains("kiln_tensor_arg") || main.contains("tvmgen_default_fused_"), main);
    assertFalse(lib1.contains("KILN_ARG_CHECK_INLINE"), "AoT: kiln_arg_data out of line");
    String takes = "tvmgen_default_fused_conv_2d (op 0 CONV_2D): takes 2 DLTensors (inputs, then outputs): ";
    try (RpcClient rpc = aot.start()) {
      RemoteFunction conv = rpc.systemLib().getFunction("tvmgen_default_fused_conv_2d");
      assertTrue(deviceError(conv, 1L).startsWith(takes), deviceError(conv, 1L));
      assertTrue(deviceError(conv, 1L, 2L).startsWith(takes), deviceError(conv, 1L, 2L));
      rpc.shutdown();
    }
    // the graph executor calls the packed operators on every inference: there the checks stay inline
    assertTrue(lib1(digits(ExecutorConfig.graph("default"))).contains("#define KILN_ARG_CHECK_INLINE"));
  }

  private static String lib1(Program p) {
    return p.writer().files().stream().filter(f -> f.path().equals("src/default_lib1.c")).findFirst().orElseThrow().text();
  }

  @Test void theSystemLibraryListsItsPackedFunctionsInTableOrder() throws Exception {
    Program graph = digits(ExecutorConfig.graph("default"));
    Program aot = digits(ExecutorConfig.aot("c", true, "default"));
    assertEquals(List.of("tvmgen_default_run", "tvmgen_default_get_c_metadata"), aot.writer().systemLibraryFunctions());
    assertEquals("tvmgen_default_get_c_metadata", graph.writer().systemLibraryFunctions()
        .get(graph.writer().systemLibraryFunctions().size() - 1));
    assertTrue(graph.writer().systemLibraryFunctions().contains("tvmgen_default_fused_conv_2d"));
    try (RpcClient rpc = graph.start()) {
      assertEquals(graph.writer().systemLibraryFunctions(), rpc.systemLib().functionNames());
      rpc.shutdown();
    }
    assertFalse(aot.program().executable().toString().equals(graph.program().executable().toString()));
  }
}
