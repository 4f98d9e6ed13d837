package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.cli.Main;
import dev.kiln.project.CWarnings;
import dev.kiln.project.TarArchive;
import dev.kiln.rpc.DataType;
import dev.kiln.rpc.Device;
import dev.kiln.rpc.RemoteModule;
import dev.kiln.rpc.RemoteNDArray;
import dev.kiln.rpc.RpcClient;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import dev.kiln.transport.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Model Library Format archive of the seed model (digits_cnn_int8), taken the way microTVM takes
 * one: its layout and metadata.json checked field by field against microtvm-facts.md section 6; its
 * codegen/host/src/*.c compiled with gcc under CWarnings.STRICT with only codegen/host/include on the
 * include path and linked against a stand-in of microTVM's CRT written from the facts doc
 * (resources/dev/kiln/mlf/microtvm_crt_stubs.c: TVM's types, TVMAPISetLastError, TVMBackend*,
 * TVMPlatform*, the registry walk); then the graph build's operators are called through the
 * registry in the order of the archive's graph JSON, and the AoT build through its metadata and
 * tvmgen_default_run, bit-exact against TFLite's reference outputs. The same archive's runtime/ builds
 * Kiln's device program, which runs the model over RPC.
 */
class ModelLibraryFormatTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Case SEED = ReferenceModels.shared("tflite", "digits_cnn_int8");

  @TempDir Path work;

  private static Build build(Executor executor) { return Kiln.load(SEED.modelFile()).build(executor); }

  private static Executor aot() { return Executor.aot().interfaceApi("packed").unpackedApi(false); }

  // ---- layout and metadata ------------------------------------------------------------------

  @Test void theArchiveIsAnUncompressedTarLaidOutAsTvmWritesIt() throws Exception {
    for (Executor executor : List.of(Executor.graph(), aot())) {
      Build b = build(executor);
      Path tar = b.exportMlf(work.resolve(executor.kind() + ".tar"));
      byte[] bytes = Files.readAllBytes(tar);
      assertEquals(0, bytes.length % 10240, "tarfile pads to 20-block records");
      // GNU tar reads it, and lists what TarArchive wrote, in the same order
      String listing = exec(work, 60, "tar", "--numeric-owner", "-tvf", tar.toString());
      List<String> names = TarArchive.names(bytes);
      List<String> lines = listing.lines().toList();
      assertEquals(names.size(), lines.size());
      for (int i = 0; i < lines.size(); i++) {
        assertTrue(lines.get(i).endsWith(" " + names.get(i)), lines.get(i) + " vs " + names.get(i));
        assertTrue(lines.get(i).contains(" 0/0 "), "owner 0/0: " + lines.get(i));
        assertTrue(lines.get(i).startsWith(names.get(i).endsWith("/") ? "drwxr-xr-x" : "-rw-r--r--"), lines.get(i));
      }
      assertEquals("./", names.get(0), "members are added under arcname '.'");
      for (String n : names) assertTrue(n.startsWith("./"), n);
      Set<String> members = new TreeSet<>(names);
      String mod = "default";
      for (String must : List.of("./metadata.json", "./codegen/host/src/" + mod + "_lib0.c", "./codegen/host/src/" + mod + "_lib1.c",
          "./codegen/host/include/tvmgen_" + mod + ".h", "./parameters/" + mod + ".params", "./src/" + mod + ".relay",
          "./runtime/crt/kiln_runtime.c", "./runtime/executors/kiln_graph_executor.c", "./runtime/platform/host/main.c",
          "./runtime/README.md")) {
        assertTrue(members.contains(must), executor + " archive lacks " + must + ": " + members);
      }
      String graph = "./executor-config/graph/" + mod + ".graph";
      assertEquals(executor.kind() == Executor.Kind.GRAPH, members.contains(graph), graph);
      assertFalse(members.contains("./runtime/crt/kiln_syslib_empty.c"), "the archive's program has a model");
      for (String n : names) {
        if (n.startsWith("./codegen/host/") && !n.endsWith("/")) {
          assertTrue(n.startsWith("./codegen/host/src/") && n.endsWith(".c") || n.startsWith("./codegen/host/include/") && n.endsWith(".h"), n);
        }
      }

      Path dir = extract(tar, executor.kind().toString());
      if (executor.kind() == Executor.Kind.GRAPH) {
        String json = Files.readString(dir.resolve("executor-config/graph/" + mod + ".graph"));
        assertEquals(b.graphJson(), json);
        assertFalse(json.contains(" ") || json.contains("\n"), "compact graph JSON");
        assertTrue(json.length() + 128 <= 2048, "fits microTVM's 2048-byte packet: " + json.length());
      }
      assertArrayEquals(dev.kiln.codegen.GraphJson.emptyParams(), Files.readAllBytes(dir.resolve("parameters/" + mod + ".params")),
          "params blob with no entries: constants are linked");
      String relay = Files.readString(dir.resolve("src/" + mod + ".relay"));
      assertTrue(relay.contains("def @main(%predict_images_0: Tensor[(1, 8, 8, 1), int8]) -> Tensor[(1, 10), int8] {"), relay);
      assertMetadata(b, Files.readString(dir.resolve("metadata.json")));
    }
  }

  /** metadata.json field by field (facts 6.2): json.dump(sort_keys=True, indent=2), version 7. */
  private static void assertMetadata(Build b, String text) throws IOException {
    boolean graph = b.executor().kind() == Executor.Kind.GRAPH;
    assertTrue(text.startsWith("{\n  \"modules\": {\n    \"default\": {\n      \"executors\": [\n        \""
        + (graph ? "graph" : "aot") + "\"\n      ],\n      \"export_datetime\": \""), text.substring(0, 200));
    assertTrue(text.endsWith("\n  },\n  \"version\": 7\n}"), "sorted keys, version last, no newline at the end");
    JsonNode root = JSON.readTree(text);
    assertEquals(List.of("modules", "version"), fieldNames(root));
    assertEquals(7, root.get("version").asInt());
    assertEquals(List.of("default"), fieldNames(root.get("modules")));
    JsonNode m = root.get("modules").get("default");
    assertEquals(List.of("executors", "export_datetime", "external_dependencies", "kiln", "memory", "model_name", "style", "target"),
        fieldNames(m));
    assertEquals(graph ? "[\"graph\"]" : "[\"aot\"]", m.get("executors").toString());
    assertTrue(m.get("export_datetime").asText().matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ"), m.get("export_datetime").asText());
    JsonNode dep = m.get("external_dependencies").get(0);
    assertEquals(1, m.get("external_dependencies").size());
    assertEquals(List.of("short_name", "url", "url_type", "version_spec"), fieldNames(dep));
    assertEquals("kiln_runtime", dep.get("short_name").asText());
    assertEquals("./runtime", dep.get("url").asText());
    assertEquals("mlf_path", dep.get("url_type").asText());
    assertEquals("default", m.get("model_name").asText());
    assertEquals("full-model", m.get("style").asText());
    assertTrue(m.get("target").isArray() && m.get("target").get(0).asText().startsWith("c "), m.get("target").toString());
    JsonNode memory = m.get("memory");
    assertEquals(graph ? List.of("functions", "sids") : List.of("functions"), fieldNames(memory));
    JsonNode main = memory.get("functions").get("main");
    assertEquals(1, main.size(), "one entry per device type");
    JsonNode e = main.get(0);
    assertEquals(List.of("constants_size_bytes", "device", "inputs", "io_size_bytes", "outputs", "workspace_size_bytes"), fieldNames(e));
    assertEquals(1, e.get("device").asInt());
    assertEquals(b.model().weightBytes(), e.get("constants_size_bytes").asLong());
    assertEquals(64 + 10, e.get("io_size_bytes").asLong());
    assertEquals("{\"predict_images:0\":{\"dtype\":\"int8\",\"size\":64}}", e.get("inputs").toString());
    assertEquals("{\"StatefulPartitionedCall:0\":{\"dtype\":\"int8\",\"size\":10}}", e.get("outputs").toString());
    assertEquals(graph ? 0 : b.arenaBytes(), e.get("workspace_size_bytes").asLong());
    List<String> ops = new ArrayList<>();
    for (JsonNode op : memory.get("functions").get("operator_functions")) {
      assertEquals(List.of("function_name", "workspace"), fieldNames(op));
      assertEquals("[{\"device\":1,\"workspace_size_bytes\":0}]", op.get("workspace").toString());
      ops.add(op.get("function_name").asText());
    }
    List<String> expected = new ArrayList<>(b.systemLibraryFunctions());
    expected.removeIf(n -> n.endsWith("_run") || n.endsWith("_get_c_metadata") || n.endsWith("___tvm_main__"));
    assertEquals(expected, ops);
    if (graph) {
      JsonNode sids = memory.get("sids");
      JsonNode storage = JSON.readTree(b.graphJson()).get("attrs").get("storage_id").get(1);
      int pools = 0;
      for (JsonNode s : storage) pools = Math.max(pools, s.asInt() + 1);
      assertEquals(pools, sids.size());
      for (int i = 0; i < sids.size(); i++) {
        JsonNode s = sids.get(i);
        assertEquals(i, s.get("storage_id").asInt());
        assertTrue(s.get("size_bytes").asLong() > 0);
        assertEquals(storage.get(0).asInt() == i, s.has("input_binding"), s.toString());
      }
      assertEquals("predict_images:0", sids.get(storage.get(0).asInt()).get("input_binding").asText());
    }
  }

  private static List<String> fieldNames(JsonNode n) {
    List<String> names = new ArrayList<>();
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) names.add(it.next());
    return names;
  }

  // ---- inside microTVM's CRT ----------------------------------------------------------------

  @Test void theGraphBuildsOperatorsRunThroughTheTvmRegistryBitExact() throws Exception {
    Build b = build(Executor.graph());
    Path dir = extract(b.exportMlf(work.resolve("graph.tar")), "graph");
    Path driver = linkWithCrtStubs(dir, graphPlan(b.graphJson()));
    for (int s : SEED.samples()) {
      Path in = work.resolve("in" + s + ".bin");
      Path out = work.resolve("graph-out" + s + ".bin");
      Files.write(in, Tensor.load(SEED.input(s, 0)).bytes());
      String stdout = exec(work, 60, driver.toString(), "graph", in.toString(), out.toString());
      assertTrue(stdout.contains("registry count " + b.systemLibraryFunctions().size() + ", backend calls 0"), stdout);
      assertArrayEquals(Tensor.load(SEED.output(s, 0)).bytes(), Files.readAllBytes(out), "sample " + s);
    }
    // a wrong call reaches the host with the library's own text, through TVMAPISetLastError
    String takes = "tvmgen_default_fused_conv_2d (op 0 CONV_2D): takes 2 DLTensors (inputs, then outputs): int8[1,8,8,1], int8[1,8,8,8]";
    String stderr = exec(work, 60, driver.toString(), "bad-calls");
    assertTrue(stderr.contains("tvmgen_default_fused_conv_2d returned 2048: " + takes + "\n"), stderr);
    assertTrue(stderr.contains("tvmgen_default_fused_conv_2d returned 2049: " + takes + "\n"), stderr);
  }

  @Test void theAotEntryTakesExactlyTheSlotsItsMetadataDeclaresAndRunsBitExact() throws Exception {
    // the two AoT forms microTVM drives from a host (facts 5.5): packed entry, packed or unpacked operators
    for (Executor executor : List.of(aot(), Executor.aot().interfaceApi("packed").unpackedApi(true))) {
      Build b = build(executor);
      Path dir = extract(b.exportMlf(work.resolve("aot.tar")), "aot-" + executor.unpackedApi() + executor.interfaceApi());
      Path driver = linkWithCrtStubs(dir, "#define PLAN_BAD_FUNC \"tvmgen_default_run\"\n");
      for (int s : SEED.samples()) {
        Path in = work.resolve("in" + s + ".bin");
        Path out = work.resolve("aot-out" + s + ".bin");
        Files.write(in, Tensor.load(SEED.input(s, 0)).bytes());
        String stdout = exec(work, 60, driver.toString(), "aot", in.toString(), out.toString());
        assertTrue(stdout.contains("mod_name=tvmgen_default version=1 num_inputs=1 num_outputs=1 num_workspace_pools=0 "
            + "num_constant_pools=0\ninput[0]: predict_images_0\noutput[0]: StatefulPartitionedCall_0\n"), stdout);
        assertArrayEquals(Tensor.load(SEED.output(s, 0)).bytes(), Files.readAllBytes(out), executor + " sample " + s);
      }
      // one slot more than the metadata declares (what microTVM passes for a declared pool) is refused, with text
      String stderr = exec(work, 60, driver.toString(), "aot-extra-arg");
      assertTrue(stderr.contains("tvmgen_default_run returned 2048: tvmgen_default_run: takes 2 DLTensors (inputs, then outputs): "
          + "int8[1,8,8,1] predict_images_0, int8[1,10] StatefulPartitionedCall_0\n"), executor + ": " + stderr);
    }
  }

  @Test void theLibraryNeedsNothingFromKilnsRuntimeAtLinkTime() throws Exception {
    Build b = build(aot());
    Path dir = extract(b.exportMlf(work.resolve("lib.tar")), "nm");
    Set<String> defined = new TreeSet<>();
    Set<String> undefined = new TreeSet<>();
    for (Path o : compileLibrary(dir)) {
      for (String line : exec(work, 60, "nm", o.toString()).lines().toList()) {
        String[] f = line.trim().split("\\s+");
        if (f.length == 2 && f[0].equals("U")) undefined.add(f[1]);
        else if (f.length == 3 && Character.isUpperCase(f[1].charAt(0))) defined.add(f[2]);
      }
    }
    undefined.removeAll(defined);
    List<String> tvm = undefined.stream().filter(s -> s.startsWith("TVM")).toList();
    List<String> kiln = undefined.stream().filter(s -> s.toLowerCase().contains("kiln")).toList();
    assertEquals(List.of("TVMAPISetLastError"), tvm, "external symbols: " + undefined);
    assertEquals(List.of(), kiln, "external symbols: " + undefined);
    assertTrue(defined.containsAll(List.of("TVMSystemLibEntryPoint", "kiln_system_lib", "tvmgen_default_run",
        "tvmgen_default_get_c_metadata")), defined.toString());
  }

  // ---- inside Kiln's runtime, from the same archive ------------------------------------------

  @Test void theArchivesRuntimeBuildsKilnsDeviceProgramThatRunsTheModel() throws Exception {
    for (Executor executor : List.of(Executor.graph(), aot())) {
      Build b = build(executor);
      Path dir = extract(b.exportMlf(work.resolve("k.tar")), "kiln-" + executor.kind());
      // the command of runtime/README.md, one file at a time (objects shared between the builds)
      assertTrue(Files.readString(dir.resolve("runtime/README.md")).contains("gcc -std=c99 -O2 -Icodegen/host/include -Iruntime/crt "
          + "-Iruntime/executors \\\n        codegen/host/src/*.c runtime/crt/*.c runtime/executors/*.c runtime/platform/host/main.c"));
      List<String> cmd = new ArrayList<>(List.of("gcc"));
      for (Path o : compile(dir, List.of("codegen/host/src", "runtime/crt", "runtime/executors", "runtime/platform/host"),
          List.of("codegen/host/include", "runtime/crt", "runtime/executors"))) {
        cmd.add(o.toString());
      }
      cmd.addAll(List.of("-lm", "-o", "kiln-device"));
      exec(dir, 300, cmd.toArray(String[]::new));
      try (RpcClient rpc = RpcClient.open(Transport.process(List.of(dir.resolve("kiln-device").toString())))) {
        Object m = executor.kind() == Executor.Kind.GRAPH
            ? rpc.getGlobalFunction("tvm.graph_executor.create").call(b.graphJson(), rpc.systemLib(), 1L, 0L)
            : rpc.getGlobalFunction("tvm.aot_executor.create").call(rpc.systemLib(), Device.CPU, "default");
        RemoteModule ex = assertInstanceOf(RemoteModule.class, m);
        for (int s : SEED.samples()) {
          try (RemoteNDArray in = rpc.array(Tensor.load(SEED.input(s, 0)).bytes(), new long[] {1, 8, 8, 1}, DataType.INT8)) {
            assertNull(ex.getFunction("set_input").call("predict_images:0", in));
          }
          assertNull(ex.getFunction("run").call());
          try (RemoteNDArray out = assertInstanceOf(RemoteNDArray.class, ex.getFunction("get_output").call(0L))) {
            assertArrayEquals(Tensor.load(SEED.output(s, 0)).bytes(), out.toByteArray(), executor + " sample " + s);
          }
        }
        // an operator's own text reaches the Kiln host too (Kiln's TVMAPISetLastError)
        if (executor.kind() == Executor.Kind.GRAPH) {
          var err = assertThrows(dev.kiln.rpc.RemoteException.class,
              () -> rpc.systemLib().getFunction("tvmgen_default_fused_softmax").call(1L));
          assertEquals("tvmgen_default_fused_softmax (op 6 SOFTMAX): takes 2 DLTensors (inputs, then outputs): int8[1,10], int8[1,10]",
              err.deviceMessage());
        }
        rpc.shutdown();
      }
    }
  }

  @Test void longPathsSplitAsUstarAndBadPathsAreRefused() throws Exception {
    String deep = "runtime/" + "a".repeat(60) + "/" + "b".repeat(60) + "/file.c";
    byte[] tar = TarArchive.of(java.util.Map.of(deep, "x".getBytes(StandardCharsets.UTF_8)), 1_700_000_000L);
    Path file = work.resolve("deep.tar");
    Files.write(file, tar);
    assertEquals("./" + deep, exec(work, 60, "tar", "-tf", file.toString()).lines().reduce((x, y) -> y).orElseThrow());
    assertEquals("./" + deep, TarArchive.names(tar).get(TarArchive.names(tar).size() - 1));
    for (String bad : List.of("../x.c", "/etc/x", "a//b", "a/./b", "dir/")) {
      assertThrows(IllegalArgumentException.class, () -> TarArchive.of(java.util.Map.of(bad, new byte[0]), 0), bad);
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TarArchive.of(java.util.Map.of("x".repeat(120), new byte[0]), 0));
    assertEquals("tar path too long for a ustar header: './" + "x".repeat(120) + "'", e.getMessage());
  }

  @Test void metadataJsonPrintsFloatsAndNonAsciiAsPythonsJsonDump() {
    var f = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
    f.put("b", 1e-5).put("a", 0.0001).put("c", 1e16).put("d", 123456789012345.0).put("e", 0.00390625f).put("f", -2.5e-7)
        .put("g", "\u00e9\"\\\n").putArray("h");
    f.putObject("i");
    assertEquals("{\n  \"a\": 0.0001,\n  \"b\": 1e-05,\n  \"c\": 1e+16,\n  \"d\": 123456789012345.0,\n  \"e\": 0.00390625,\n"
        + "  \"f\": -2.5e-07,\n  \"g\": \"\\u00e9\\\"\\\\\\n\",\n  \"h\": [],\n  \"i\": {}\n}",
        dev.kiln.project.ModelLibraryFormat.pythonJson(f));
  }

  // ---- the command ---------------------------------------------------------------------------

  @Test void kilnMlfWritesTheArchiveAndExplainsBadOptions() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    Path tar = work.resolve("cli/model.tar");
    int code = Main.run(new String[] {"mlf", SEED.modelFile().toString(), "--executor", "graph", "-o", tar.toString()},
        new PrintWriter(out, true), new PrintWriter(err, true));
    assertEquals(0, code, err.toString());
    assertEquals("wrote " + tar + " (graph): system library 8 functions, entry tvmgen_default_run; graph JSON 1902 bytes, "
        + "fits microTVM's default 2048-byte packet\n", out.toString());
    assertTrue(TarArchive.names(Files.readAllBytes(tar)).contains("./executor-config/graph/default.graph"));
    code = Main.run(new String[] {"mlf", SEED.modelFile().toString(), "--executor", "graph", "--interface-api", "c", "-o", tar.toString()},
        new PrintWriter(out, true), new PrintWriter(err, true));
    assertEquals(1, code);
    assertTrue(err.toString().contains("kiln: error: --interface-api and --unpacked-api are AoT options"), err.toString());
    KilnException e = assertThrows(KilnException.class, () -> build(aot()).exportMlf(work));
    assertTrue(e.getMessage().startsWith("exportMlf(" + work + "): " + work + " is a folder; pass a file name such as "), e.getMessage());
  }

  // ---- helpers -------------------------------------------------------------------------------

  private Path extract(Path tar, String name) throws Exception {
    Path dir = Files.createDirectories(work.resolve("x-" + name));
    exec(dir, 60, "tar", "-xf", tar.toString());
    return dir;
  }

  static List<String> glob(Path dir, String folder, String suffix) throws IOException {
    try (Stream<Path> s = Files.list(dir.resolve(folder))) {
      return s.map(p -> folder + "/" + p.getFileName()).filter(p -> p.endsWith(suffix)).sorted().toList();
    }
  }

  /**
   * Each codegen/host/src/*.c compiled alone, with only the archive's codegen/host/include on the
   * include path. Objects are shared between the tests by the text of the source and of the whole
   * include folder (the kernel library is the same in every archive).
   */
  private List<Path> compileLibrary(Path dir) throws Exception {
    return compile(dir, List.of("codegen/host/src"), List.of("codegen/host/include"));
  }

  /** Each .c of {@code folders} compiled alone with {@code includes} (archive folders) on the include path, cached by content. */
  private static List<Path> compile(Path dir, List<String> folders, List<String> includes) throws Exception {
    StringBuilder headers = new StringBuilder(String.join(",", includes));
    for (String inc : includes) {
      for (String h : glob(dir, inc, ".h")) headers.append(h).append('\0').append(Files.readString(dir.resolve(h)));
    }
    List<Path> objects = new ArrayList<>();
    List<String> sources = new ArrayList<>();
    for (String folder : folders) sources.addAll(glob(dir, folder, ".c"));
    for (String c : sources) {
      String key = sha256(headers + "\0" + c + "\0" + Files.readString(dir.resolve(c)));
      Path o = OBJECTS.resolve(key + ".o");
      if (!Files.exists(o)) {
        Path tmp = OBJECTS.resolve(key + ".tmp.o");
        List<String> cmd = new ArrayList<>(List.of("gcc", "-O2"));
        cmd.addAll(CWarnings.STRICT);
        for (String inc : includes) cmd.add("-I" + inc);
        cmd.addAll(List.of("-c", c, "-o", tmp.toString()));
        exec(dir, 120, cmd.toArray(String[]::new));
        Files.move(tmp, o);
      }
      objects.add(o);
    }
    return objects;
  }

  @TempDir static Path OBJECTS;

  private static String sha256(String text) throws Exception {
    return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  /** The library's objects + the CRT stand-in (no Kiln header: TVM's types only), linked with libc and libm. */
  private Path linkWithCrtStubs(Path dir, String plan) throws Exception {
    List<Path> objects = compileLibrary(dir);
    Path driverDir = Files.createDirectories(dir.resolve("../driver-" + dir.getFileName()).normalize());
    Files.writeString(driverDir.resolve("mlf_plan.h"), plan);
    try (InputStream in = getClass().getResourceAsStream("/dev/kiln/mlf/microtvm_crt_stubs.c")) {
      Files.write(driverDir.resolve("microtvm_crt_stubs.c"), in.readAllBytes());
    }
    List<String> cmd = new ArrayList<>(List.of("gcc", "-O2"));
    cmd.addAll(CWarnings.STRICT);
    cmd.addAll(List.of("-I.", "microtvm_crt_stubs.c"));
    for (Path o : objects) cmd.add(o.toString());
    cmd.addAll(List.of("-lm", "-o", "driver"));
    exec(driverDir, 120, cmd.toArray(String[]::new));
    return driverDir.resolve("driver");
  }

  /**
   * mlf_plan.h: the graph JSON as microTVM's graph executor reads it (facts 4.1), flattened to C
   * tables: storage pools sized from the entries on them, every entry's pool, shape and dtype, and
   * every tvm_op's func_name with its input then output entry ids.
   */
  static String graphPlan(String graphJson) throws IOException {
    JsonNode g = JSON.readTree(graphJson);
    JsonNode nodes = g.get("nodes");
    int[] rowPtr = new int[nodes.size() + 1];
    for (int i = 0; i <= nodes.size(); i++) rowPtr[i] = g.get("node_row_ptr").get(i).asInt();
    JsonNode sids = g.get("attrs").get("storage_id").get(1);
    JsonNode shapes = g.get("attrs").get("shape").get(1);
    JsonNode dtypes = g.get("attrs").get("dltype").get(1);
    int entries = sids.size();
    int pools = 0;
    for (JsonNode s : sids) pools = Math.max(pools, s.asInt() + 1);
    long[] poolBytes = new long[pools];
    StringBuilder c = new StringBuilder("#define PLAN_GRAPH 1\n");
    StringBuilder sid = new StringBuilder();
    StringBuilder ndim = new StringBuilder();
    StringBuilder shape = new StringBuilder();
    StringBuilder code = new StringBuilder();
    StringBuilder bits = new StringBuilder();
    for (int e = 0; e < entries; e++) {
      String dt = dtypes.get(e).asText();
      int b = Integer.parseInt(dt.replaceAll("[a-z]", ""));
      int cd = dt.startsWith("int") ? 0 : dt.startsWith("uint") ? 1 : dt.startsWith("float") ? 2 : -1;
      assertTrue(cd >= 0, dt);
      long n = b / 8;
      StringBuilder dims = new StringBuilder();
      for (JsonNode d : shapes.get(e)) {
        n *= d.asLong();
        dims.append(dims.length() == 0 ? "" : ", ").append(d.asLong());
      }
      poolBytes[sids.get(e).asInt()] = Math.max(poolBytes[sids.get(e).asInt()], n);
      sid.append(sids.get(e).asInt()).append(", ");
      ndim.append(shapes.get(e).size()).append(", ");
      shape.append("  {").append(dims.length() == 0 ? "0" : dims).append("},\n");
      code.append(cd).append(", ");
      bits.append(b).append(", ");
    }
    StringBuilder func = new StringBuilder();
    StringBuilder numArgs = new StringBuilder();
    StringBuilder args = new StringBuilder();
    int ops = 0;
    int maxArgs = 0;
    String firstFunc = null;
    for (int n = 0; n < nodes.size(); n++) {
      JsonNode node = nodes.get(n);
      if (!node.get("op").asText().equals("tvm_op")) continue;
      String f = node.get("attrs").get("func_name").asText();
      if (firstFunc == null) firstFunc = f;
      List<Integer> a = new ArrayList<>();
      for (JsonNode in : node.get("inputs")) a.add(rowPtr[in.get(0).asInt()] + in.get(1).asInt());
      int outs = Integer.parseInt(node.get("attrs").get("num_outputs").asText());
      for (int k = 0; k < outs; k++) a.add(rowPtr[n] + k);
      maxArgs = Math.max(maxArgs, a.size());
      func.append("  \"").append(f).append("\",\n");
      numArgs.append(a.size()).append(", ");
      args.append("  {").append(a.toString().replaceAll("[\\[\\]]", "")).append("},\n");
      ops++;
    }
    StringBuilder pb = new StringBuilder();
    for (long p : poolBytes) pb.append(p).append(", ");
    int inputEntry = rowPtr[g.get("arg_nodes").get(0).asInt()];
    JsonNode head = g.get("heads").get(0);
    int outputEntry = rowPtr[head.get(0).asInt()] + head.get(1).asInt();
    c.append("#define PLAN_BAD_FUNC \"").append(firstFunc).append("\"\n");
    c.append("#define PLAN_NUM_STORAGE ").append(pools).append("\n#define PLAN_NUM_ENTRIES ").append(entries)
        .append("\n#define PLAN_NUM_NODES ").append(ops).append("\n#define PLAN_MAX_ARGS ").append(maxArgs).append('\n');
    c.append("static const long plan_storage_bytes[] = {").append(pb).append("};\n");
    c.append("static const int plan_entry_sid[] = {").append(sid).append("};\n");
    c.append("static const int plan_entry_ndim[] = {").append(ndim).append("};\n");
    c.append("static const int64_t plan_entry_shape[][6] = {\n").append(shape).append("};\n");
    c.append("static const int plan_entry_code[] = {").append(code).append("};\n");
    c.append("static const int plan_entry_bits[] = {").append(bits).append("};\n");
    c.append("static const char *const plan_node_func[] = {\n").append(func).append("};\n");
    c.append("static const int plan_node_num_args[] = {").append(numArgs).append("};\n");
    c.append("static const int plan_node_args[][PLAN_MAX_ARGS] = {\n").append(args).append("};\n");
    c.append("static const int plan_input_entry = ").append(inputEntry).append(";\n");
    c.append("static const int plan_output_entry = ").append(outputEntry).append(";\n");
    return c.toString();
  }

  /** Runs a command in {@code dir}; returns stdout and stderr together; a non-zero exit or the timeout fails. */
  static String exec(Path dir, int timeoutSeconds, String... cmd) throws IOException, InterruptedException {
    Path log = Files.createTempFile("kiln-mlf-exec", ".log");
    try {
      Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out after " + timeoutSeconds + " s: " + String.join(" ", cmd));
      }
      String text = Files.readString(log, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) throw new IOException("exit " + p.exitValue() + " from " + String.join(" ", cmd) + "\n" + text);
      return text;
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
