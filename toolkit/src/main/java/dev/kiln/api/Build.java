package dev.kiln.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.codegen.DeviceModelWriter;
import dev.kiln.codegen.ExecutorConfig;
import dev.kiln.codegen.GeneratedFile;
import dev.kiln.codegen.ModelWriter;
import dev.kiln.codegen.kernels.Kernels;
import dev.kiln.compile.CompileException;
import dev.kiln.compile.CompiledModel;
import dev.kiln.compile.Compiler;
import dev.kiln.compile.MemoryPlan;
import dev.kiln.project.DeviceProgram;
import dev.kiln.project.FolderWriter;
import dev.kiln.project.Platform;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A model compiled for one executor: the generated C (viewable), its memory plan and metadata,
 * exportable as a Model Library Format-style folder.
 */
public final class Build {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
      .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

  private final Model model;
  private final Executor executor;
  private final CompiledModel compiled;
  private final ModelWriter writer;
  private final DeviceModelWriter device;
  private final List<GeneratedFile> files;
  private final double compileMillis;

  private Build(Model model, Executor executor, CompiledModel compiled, long startNanos) {
    this.model = model;
    this.executor = executor;
    this.compiled = compiled;
    this.writer = new ModelWriter(compiled, executor.moduleName());
    this.device = new DeviceModelWriter(compiled, executor.kind() == Executor.Kind.GRAPH
        ? ExecutorConfig.graph(executor.moduleName())
        : ExecutorConfig.aot(executor.interfaceApi(), executor.unpackedApi(), executor.moduleName()));
    // The standalone C interface needs nothing but its folder and libm; the others ship the device library.
    this.files = isStandalone() ? writer.files() : device.files();
    this.compileMillis = (System.nanoTime() - startNanos) / 1e6;
  }

  static Build of(Model model, Executor executor) {
    try {
      long start = System.nanoTime();
      CompiledModel compiled = Compiler.compile(model.graph(), Kernels.support());
      return new Build(model, executor, compiled, start);
    } catch (CompileException e) {
      throw new KilnException(model.source() + ": " + e.getMessage(), e);
    } catch (UnsupportedOperationException | IllegalArgumentException | IllegalStateException e) {
      throw new KilnException(model.source() + ": cannot build for " + executor + ": " + e.getMessage(), e);
    }
  }

  /** True for the AoT C interface with unpacked operators: firmware calls tvmgen_<mod>_run directly. */
  private boolean isStandalone() {
    return executor.kind() == Executor.Kind.AOT && executor.interfaceApi().equals("c") && executor.unpackedApi();
  }

  /** The graph JSON the graph executor is created from (graph builds only). */
  public String graphJson() {
    return device.graphJson().map(g -> g.text()).orElseThrow(() -> new KilnException(executor + " has no graph JSON: only Executor.graph() builds do"));
  }

  /**
   * Starts a session with {@code target} running this build: for {@link Device#host()} the device
   * program is built with gcc (cached by content) and run as a local process.
   */
  public DeviceSession flash(Device target) {
    Args.notNull(target, "target", "flash(target)", "a device: Device.host(), Device.qemu(\"mps2-an386\"), Device.serial(\"/dev/ttyACM0\") or Device.tcp(host, port)");
    DeviceProgram program = null;
    if (target.kind() == Device.Kind.HOST || (target.kind() == Device.Kind.QEMU && target.firmware() == null)) {
      program = deviceProgram(target);
    }
    return DeviceSession.open(this, target, program);
  }

  /**
   * The host device program of this build (platform/host: a process speaking the protocol on
   * stdin/stdout), built with gcc and cached by content; run it behind a pseudo-terminal to stand in
   * for a board on a serial line.
   */
  public DeviceProgram deviceProgram() { return deviceProgram(Device.host()); }

  /**
   * The device program of this build for {@code target}'s platform (gcc for the host, the board's
   * cross compiler for a QEMU board), built or reused from the cache. A firmware that does not fit
   * the board is refused here, with its sizes.
   */
  public DeviceProgram deviceProgram(Device target) {
    try {
      Platform platform = Platform.named(target.platformName());
      List<String> defines = target.kind() == Device.Kind.QEMU ? List.of("KILN_QEMU_ICOUNT_SHIFT=" + target.icountShift()) : List.of();
      return DeviceProgram.build(device, platform, defines, DeviceProgram.defaultCache());
    } catch (dev.kiln.project.ProgramTooLargeException e) {
      throw new KilnException(model.name() + " (" + executor + "): " + e.getMessage(), e);
    } catch (IOException e) {
      throw new KilnException("building the device program of " + model.name() + " for " + target + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KilnException("interrupted while building the device program", e);
    }
  }

  /**
   * A device's operator times as a {@link Profile} of this build's operators: graph executors time
   * every node (inputs first, then one node per operator), AoT executors every operator.
   */
  Profile profileOf(dev.kiln.micro.OperatorTimes times, String deviceName, java.util.OptionalDouble instructionsPerMicro) {
    List<dev.kiln.ir.Op> ops = compiled.graph().ops();
    int first = executor.kind() == Executor.Kind.GRAPH ? compiled.graph().inputs().size() : 0;
    if (times.count() != first + ops.size()) {
      throw new KilnDeviceException("the device timed " + times.count() + " operators, but " + model.name() + " for "
          + executor + " has " + (first + ops.size()) + (first > 0 ? " graph nodes" : " operators")
          + ": is the device running this build?");
    }
    double total = times.meanTotalSeconds() * 1e6;
    List<Profile.Entry> entries = new java.util.ArrayList<>();
    for (dev.kiln.ir.Op op : ops) {
      double us = times.meanSeconds(first + op.index()) * 1e6;
      String fn = device.operatorFunctions().getOrDefault(op, "inline");
      java.util.OptionalLong instr = instructionsPerMicro.isPresent()
          ? java.util.OptionalLong.of(Math.round(us * instructionsPerMicro.getAsDouble())) : java.util.OptionalLong.empty();
      entries.add(new Profile.Entry(op.index(), op.type().name(), op.outputs().isEmpty() ? "" : op.output().name(), fn, us, total > 0 ? us / total : 0, instr));
    }
    return new Profile(model.name(), executor.toString(), deviceName, times.number(), times.totalSeconds().length, entries,
        total, instructionsPerMicro);
  }

  /**
   * Flash and RAM of this build's host device program, read from its ELF: code (model and runtime),
   * weights, operator parameters, data, bss and the arena. Builds the program if needed (cached).
   */
  public dev.kiln.project.ProgramMemory deviceMemory() { return memoryOf(deviceProgram()); }

  /** Flash and RAM of {@code program} (this build's device program for some platform), read from its ELF. */
  dev.kiln.project.ProgramMemory memoryOf(DeviceProgram program) {
    try {
      return program.memory(device.prefix());
    } catch (IOException e) {
      throw new KilnException("reading the memory of " + model.name() + "'s device program failed: " + e.getMessage(), e);
    }
  }

  /**
   * Writes a self-contained firmware project for a board of {@code architecture} ("cortex-m" or
   * "riscv32"): this build's device library, the runtime, the platform hooks to fill, QEMU examples,
   * Makefile, CMakeLists.txt and README.md. All or nothing.
   */
  public Path firmwareProject(Path dir, String architecture) {
    Args.notNull(dir, "dir", "firmwareProject(dir, architecture)", "the folder to write, e.g. Path.of(\"firmware\")");
    Args.notNull(architecture, "architecture", "firmwareProject(dir, architecture)", "\"cortex-m\" or \"riscv32\"");
    try {
      return dev.kiln.project.FirmwareProject.write(device, architecture, dir);
    } catch (IllegalArgumentException e) {
      throw new KilnException(e.getMessage(), e);
    } catch (IOException e) {
      throw new KilnException("could not write the firmware project " + dir + ": " + e.getMessage(), e);
    }
  }

  public Model model() { return model; }

  public Executor executor() { return executor; }

  public CompiledModel compiled() { return compiled; }

  /** The memory plan of the static arena (model inputs and outputs live in the caller's buffers). */
  public MemoryPlan memoryPlan() {
    // with the compiled graph's op names (the plan's indices are that graph's, after its passes), for displays
    return compiled.memoryPlan().withOpNames(compiled.graph().ops().stream().map(o -> o.type().name()).toList());
  }

  public int arenaBytes() { return compiled.arenaBytes(); }

  /** Milliseconds this build took: compile passes, memory plan and generating the C (not gcc: see the device program). */
  public double compileMillis() { return compileMillis; }

  /** The generated sources by path under {@code codegen/host/}. */
  public Map<String, String> sources() {
    Map<String, String> m = new LinkedHashMap<>();
    for (GeneratedFile f : files) m.put(f.path(), f.text());
    return m;
  }

  /** The entry point, e.g. {@code tvmgen_default_run}. */
  public String entryPoint() { return writer.prefix() + "_run"; }

  /** Functions of the device program's system library (packed calling convention). */
  public List<String> systemLibraryFunctions() { return device.systemLibraryFunctions(); }

  /** Complete metadata: executor options, every input and output with both names, memory. */
  public ObjectNode metadata() {
    ObjectNode root = JSON.createObjectNode();
    root.put("model", model.name());
    root.put("source", model.source());
    root.put("format", model.format());
    ObjectNode ex = root.putObject("executor");
    ex.put("kind", executor.kind().name().toLowerCase(java.util.Locale.ROOT));
    ex.put("interface_api", executor.interfaceApi());
    ex.put("unpacked_api", executor.unpackedApi());
    ex.put("module_name", executor.moduleName());
    ex.put("entry_point", entryPoint());
    root.set("inputs", tensors(model.inputs()));
    root.set("outputs", tensors(model.outputs()));
    ObjectNode mem = root.putObject("memory");
    MemoryPlan p = memoryPlan();
    mem.put("arena_bytes", p.arenaBytes());
    mem.put("arena_lower_bound_bytes", p.lowerBoundBytes());
    mem.put("arena_greedy_bytes", p.greedyBytes());
    mem.put("arena_strategy", p.strategy());
    MemoryPlan io = compiled.memoryPlanWithIo();
    mem.put("with_io_bytes", io.arenaBytes());
    mem.put("with_io_lower_bound_bytes", io.lowerBoundBytes());
    mem.put("weights_bytes", model.weightBytes());
    // as the device metadata: no workspace pool for the caller to pass, the arena is a static array of the library
    mem.putArray("workspace_pools");
    mem.put("arena_symbol", writer.prefix() + "_arena");
    ObjectNode ops = root.putObject("ops");
    new TreeMap<>(model.opCounts()).forEach((k, v) -> ops.put(k.name(), v));
    return root;
  }

  private static ArrayNode tensors(List<TensorInfo> infos) {
    ArrayNode arr = JSON.createArrayNode();
    for (TensorInfo t : infos) {
      ObjectNode o = arr.addObject();
      o.put("index", t.index());
      o.put("name", t.name());
      o.put("c_name", t.cName());
      ArrayNode aliases = o.putArray("aliases");
      t.aliases().forEach(aliases::add);
      ArrayNode shape = o.putArray("shape");
      for (int d : t.shape()) shape.add(d);
      o.put("dtype", t.dtype());
      o.put("bytes", t.bytes());
      if (t.isQuantized()) {
        ObjectNode q = o.putObject("quantization");
        q.put("scale", t.scale());
        q.put("zero_point", t.zeroPoint());
      } else {
        o.putNull("quantization");
      }
    }
    return arr;
  }

  /**
   * Writes the Model Library Format-style folder: {@code codegen/host/{include,src}} and
   * {@code metadata.json}. All or nothing: on failure the destination is left as it was.
   */
  public Path exportTo(Path dir) {
    Args.notNull(dir, "dir", "exportTo(dir)", "the folder to write, e.g. Path.of(\"out/model\")");
    if (java.nio.file.Files.exists(dir) && !java.nio.file.Files.isDirectory(dir)) {
      throw new KilnException("exportTo(" + dir + "): " + dir + " is a file, not a folder; pass a new or existing folder path (its contents are replaced)");
    }
    try {
      FolderWriter.write(dir, libraryFolder());
    } catch (IOException e) {
      throw new KilnException("exportTo(" + dir + "): could not write it: " + e.getMessage() + "; pass a writable folder path", e);
    }
    return dir;
  }

  /**
   * Exports this build under {@code work} and compiles it with gcc into a host program driven
   * through the C interface (for checking outputs and timing on the host).
   */
  public HostModel compileForHost(Path work) {
    Args.notNull(work, "work", "compileForHost(work)", "a folder for the build, e.g. Files.createTempDirectory(\"kiln\")");
    if (!isStandalone()) {
      throw new KilnException("compileForHost drives the AoT C interface; build with Executor.aot().interfaceApi(\"c\").unpackedApi(true), "
          + "or run " + executor + " builds with flash(Device.host())");
    }
    Path lib = exportTo(work.resolve("mlf"));
    try {
      var p = dev.kiln.project.HostProgram.compile(lib, writer.prefix(),
          model.inputs().stream().map(TensorInfo::cName).toList(), model.inputs().stream().map(TensorInfo::bytes).toList(),
          model.outputs().stream().map(TensorInfo::cName).toList(), model.outputs().stream().map(TensorInfo::bytes).toList(),
          work.resolve("host"));
      return new HostModel(this, p, work);
    } catch (IOException e) {
      throw new KilnException("compiling " + model.name() + " for the host failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KilnException("interrupted while compiling " + model.name(), e);
    }
  }

  /**
   * Writes this build as a Model Library Format archive (an uncompressed tar, MLF version 7 as TVM
   * v0.18 writes it): {@code metadata.json}, {@code codegen/host/{include,src}},
   * {@code executor-config/graph/<mod>.graph} (graph builds), {@code parameters/<mod>.params},
   * {@code src/<mod>.relay} and {@code runtime/} (Kiln's runtime, in the place of TVM's CRT). The
   * sources compile with {@code codegen/host/include} alone and link against microTVM's CRT
   * unchanged ({@code TVMSystemLibEntryPoint}, {@code TVMAPISetLastError}) as well as Kiln's
   * runtime. All or nothing: the file is replaced only when complete.
   */
  public Path exportMlf(Path file) {
    Args.notNull(file, "file", "exportMlf(file)", "the archive to write, e.g. Path.of(\"model.tar\")");
    if (java.nio.file.Files.isDirectory(file)) {
      throw new KilnException("exportMlf(" + file + "): " + file + " is a folder; pass a file name such as " + file.resolve("model.tar"));
    }
    Map<String, byte[]> out = new LinkedHashMap<>();
    java.nio.charset.Charset utf8 = java.nio.charset.StandardCharsets.UTF_8;
    try {
      for (Map.Entry<String, String> e : libraryFolder().entrySet()) out.put(e.getKey(), e.getValue().getBytes(utf8));
      out.put("parameters/" + executor.moduleName() + ".params", dev.kiln.codegen.GraphJson.emptyParams());
      out.put("src/" + executor.moduleName() + ".relay", operatorText().getBytes(utf8));
      out.putAll(dev.kiln.project.ModelLibraryFormat.runtimeFiles());
      dev.kiln.project.ModelLibraryFormat.write(file, out, System.currentTimeMillis() / 1000);
    } catch (IOException e) {
      throw new KilnException("exportMlf(" + file + "): could not write it: " + e.getMessage() + "; pass a writable file path", e);
    }
    return file;
  }

  /** codegen/host, the graph JSON and metadata.json: what {@link #exportTo} writes and the archive holds. */
  private Map<String, String> libraryFolder() throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    for (GeneratedFile f : files) out.put("codegen/host/" + f.path(), f.text());
    if (!isStandalone()) {
      // the executors reference kiln_linked_graph_json; an exported library links none (the host sends the JSON)
      GeneratedFile none = DeviceProgram.noLinkedGraph();
      out.put("codegen/host/" + none.path(), none.text());
    }
    device.graphJson().ifPresent(g -> out.put("executor-config/graph/" + executor.moduleName() + ".graph", g.text()));
    // as TVM writes it: json.dump(sort_keys=True, indent=2), no newline at the end
    out.put("metadata.json", dev.kiln.project.ModelLibraryFormat.pythonJson(mlfMetadata()));
    return out;
  }

  /**
   * src/<mod>.relay: TVM writes the Relay text of the model there; Kiln has no Relay, so this is
   * its operator list in the same shape (one let-free line per operator, types as Relay prints them).
   */
  private String operatorText() {
    dev.kiln.ir.Graph g = compiled.graph();
    Map<dev.kiln.ir.Tensor, String> names = new java.util.IdentityHashMap<>();
    StringBuilder sb = new StringBuilder("// Kiln's operators of " + model.source().replaceAll(".*[/\\\\]", "")
        + " in execution order (Kiln has no Relay IR; TVM writes the model's Relay text here).\n");
    StringBuilder params = new StringBuilder();
    for (dev.kiln.ir.Tensor t : g.inputs()) {
      names.put(t, "%" + t.cName());
      params.append(params.length() == 0 ? "" : ", ").append("%").append(t.cName()).append(": ").append(relayType(t));
    }
    StringBuilder results = new StringBuilder();
    for (dev.kiln.ir.Tensor t : g.outputs()) results.append(results.length() == 0 ? "" : ", ").append(relayType(t));
    sb.append("def @main(").append(params).append(") -> ")
        .append(g.outputs().size() == 1 ? results : "(" + results + ")").append(" {\n");
    int k = 0;
    for (dev.kiln.ir.Op op : g.ops()) {
      List<String> args = new java.util.ArrayList<>();
      for (dev.kiln.ir.Tensor t : op.inputs()) {
        if (t == null) continue;
        args.add(names.getOrDefault(t, t.isConstant() ? "@" + t.cName() : "%" + t.cName()));
      }
      String fn = device.operatorFunctions().getOrDefault(op, "inline in " + entryPoint());
      for (dev.kiln.ir.Tensor t : op.outputs()) names.put(t, "%" + k);
      sb.append("  %").append(k).append(" = ").append(op.type().name().toLowerCase(java.util.Locale.ROOT)).append('(')
          .append(String.join(", ", args)).append(") /* ty=").append(relayType(op.output())).append(", ").append(fn).append(" */;\n");
      k++;
    }
    List<String> outs = new java.util.ArrayList<>();
    for (dev.kiln.ir.Tensor t : g.outputs()) outs.add(names.getOrDefault(t, "%" + t.cName()));
    sb.append("  ").append(outs.size() == 1 ? outs.get(0) : "(" + String.join(", ", outs) + ")").append("\n}\n");
    return sb.toString();
  }

  private static String relayType(dev.kiln.ir.Tensor t) {
    StringBuilder s = new StringBuilder("Tensor[(");
    for (int d = 0; d < t.rank(); d++) s.append(d == 0 ? "" : ", ").append(t.dim(d));
    if (t.rank() == 1) s.append(',');
    return s.append("), ").append(t.dtype().numpyName()).append(']').toString();
  }

  private ObjectNode mlfMetadata() {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", dev.kiln.project.ModelLibraryFormat.VERSION);
    ObjectNode m = root.putObject("modules").putObject(executor.moduleName());
    m.putArray("executors").add(executor.kind().name().toLowerCase(java.util.Locale.ROOT));
    // TVM: local time with a literal Z
    m.put("export_datetime", java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'")));
    // TVM lists its standalone CRT here (AoT + crt runtime); Kiln's runtime/ takes its place for every build
    ObjectNode dep = m.putArray("external_dependencies").addObject();
    dep.put("short_name", "kiln_runtime");
    dep.put("url", "./runtime");
    dep.put("url_type", "mlf_path");
    dep.put("version_spec", KILN_VERSION);
    m.put("model_name", executor.moduleName());
    m.put("style", "full-model");
    m.putArray("target").add("c -keys=cpu");
    ObjectNode memory = m.putObject("memory");
    ObjectNode functions = memory.putObject("functions");
    ObjectNode main = functions.putArray("main").addObject();
    main.put("device", 1);
    // the static memory of the library: the AoT arena, or the graph operators' shared scratch
    main.put("workspace_size_bytes", executor.kind() == Executor.Kind.GRAPH ? device.scratchBytes() : arenaBytes());
    main.put("constants_size_bytes", model.weightBytes());
    main.put("io_size_bytes", model.inputs().stream().mapToInt(TensorInfo::bytes).sum()
        + model.outputs().stream().mapToInt(TensorInfo::bytes).sum());
    ObjectNode ins = main.putObject("inputs");
    for (TensorInfo t : model.inputs()) ins.putObject(t.name()).put("size", t.bytes()).put("dtype", t.dtype());
    ObjectNode outs = main.putObject("outputs");
    for (TensorInfo t : model.outputs()) outs.putObject(t.name()).put("size", t.bytes()).put("dtype", t.dtype());
    ArrayNode ops = functions.putArray("operator_functions");
    device.operatorFunctions().forEach((op, fn) -> {
      ObjectNode o = ops.addObject();
      o.put("function_name", fn);
      ObjectNode ws = o.putArray("workspace").addObject();
      ws.put("device", 1);
      ws.put("workspace_size_bytes", Kernels.emitter(op.type()).map(e -> e.scratchBytes(op)).orElse(0));
    });
    device.graphJson().ifPresent(g -> {
      // one entry per storage id: its pool's bytes, and the input node it holds if any
      ArrayNode sids = memory.putArray("sids");
      int[] ids = g.storageIds();
      long[] pools = g.poolBytes();
      for (int sid = 0; sid < pools.length; sid++) {
        ObjectNode o = sids.addObject();
        o.put("storage_id", sid);
        o.put("size_bytes", pools[sid]);
        for (int i = 0; i < model.inputs().size() && i < ids.length; i++) {
          if (ids[i] == sid) o.put("input_binding", model.inputs().get(i).name());
        }
      }
    });
    m.set("kiln", metadata());
    return root;
  }

  /** Kiln's version, as the archive's runtime dependency names it. */
  static final String KILN_VERSION = "0.1.0";

  /**
   * How the graph JSON reaches a device with microTVM's 2 KiB packets (the QEMU boards'): sent in
   * the create call when it fits one packet, else linked into the firmware. Empty for AoT builds.
   */
  public String graphJsonTransfer() {
    if (executor.kind() != Executor.Kind.GRAPH) return "";
    String json = graphJson();
    int bytes = json.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    return "graph JSON " + bytes + " bytes: " + (DeviceProgram.linksGraphJson(json, 2048)
        ? "linked into board firmware (over one 2 KiB packet)" : "sent in the create call (fits one 2 KiB packet)");
  }

  @Override public String toString() {
    String graph = graphJsonTransfer();
    return model.name() + " for " + executor + ": " + memoryPlan() + (graph.isEmpty() ? "" : "; " + graph);
  }
}
