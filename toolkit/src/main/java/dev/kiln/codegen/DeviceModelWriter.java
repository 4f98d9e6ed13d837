package dev.kiln.codegen;

import dev.kiln.codegen.kernels.Kernels;
import dev.kiln.compile.CompiledModel;
import dev.kiln.compile.Storage;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Writes a compiled model as the system library of a device program driven over RPC, for the graph
 * executor or the AoT executor with either interface-api and unpacked-api (see {@link
 * ExecutorConfig}). Files, paths relative to {@code codegen/host}:
 * <ul>
 *   <li>{@code include/<prefix>.h}: the C-interface header of {@link ModelWriter} (I/O structs, size
 *       and name macros); its run declaration only when interface-api is "c";</li>
 *   <li>{@code include/<prefix>_packed.h}: the packed functions (operators, {@code ___tvm_main__},
 *       the entry, the metadata getter), for firmware and the system-library table;</li>
 *   <li>{@code src/<mod>_lib0.c}: the linked constants (as {@link ModelWriter});</li>
 *   <li>{@code src/<mod>_lib1.c}: operators and the entry. AoT c + unpacked is {@link ModelWriter}'s
 *       file unchanged; packed operators are {@code int <prefix>_fused_<op>[_n](packed args)}
 *       taking their activation inputs then outputs as DLTensors (constants are linked, never
 *       arguments), each checking them and calling the op's static body on raw pointers, which
 *       AoT's packed {@code ___tvm_main__} calls directly; AoT keeps intermediates in a static
 *       arena, the graph executor in its storage pools;</li>
 *   <li>{@code src/<mod>_lib2.c}: metadata ({@link DeviceMetadata}), the packed wrapper of the
 *       C-interface entry, and the table behind {@code kiln_system_lib()};</li>
 *   <li>the kernel library.</li>
 * </ul>
 * Registry names are TVM's: {@code <prefix>_run} and {@code <prefix>_get_c_metadata}; with the C
 * interface the C symbol {@code <prefix>_run} stays the firmware function and the packed wrapper is
 * the C symbol {@code <prefix>_run_packed}, registered as {@code <prefix>_run}. Same input, same bytes.
 */
public final class DeviceModelWriter {
  static final String PACKED_PARAMS =
      "kiln_value *args, int *type_codes, int num_args, kiln_value *out_value, int *out_type_code, void *resource_handle";
  private static final String KERNEL_RESOURCES = "/dev/kiln/runtime/kernels/";

  private final CompiledModel model;
  private final Graph graph;
  private final ExecutorConfig config;
  private final ModelWriter base;
  private final String prefix;
  private final String mod;
  private final Map<Op, String> opFunctions = new LinkedHashMap<>();
  /** The static raw-pointer function behind each packed operator (opFunction). */
  private final Map<Op, String> opBodies = new HashMap<>();
  private final long scratchBytes;
  private final GraphJson graphJson;
  private final List<String> registry = new ArrayList<>();
  private final List<GeneratedFile> files;

  public DeviceModelWriter(CompiledModel model, ExecutorConfig config) {
    this.model = model;
    this.graph = model.graph();
    this.config = config;
    this.base = new ModelWriter(model, config.moduleName());
    this.prefix = base.prefix();
    this.mod = config.moduleName();
    if (graph.outputs().isEmpty()) throw new IllegalArgumentException(graph.name() + " has no outputs: nothing to run");
    if (config.packedOperators()) {
      Set<String> taken = new HashSet<>();
      for (Op op : graph.ops()) {
        if (op.type().isView() && !config.isGraph()) continue; // AoT handles views inline
        String base = prefix + "_fused_" + op.type().name().toLowerCase(Locale.ROOT);
        String name = base;
        for (int k = 1; !taken.add(name); k++) name = base + "_" + k;
        opFunctions.put(op, name);
      }
    }
    long scratch = 0;
    if (config.isGraph()) {
      for (Op op : graph.ops()) scratch = Math.max(scratch, Kernels.emitter(op.type()).map(e -> e.scratchBytes(op)).orElse(0));
    }
    this.scratchBytes = scratch;
    this.graphJson = config.isGraph() ? GraphJson.of(model, opFunctions) : null;
    if (!config.isGraph()) {
      registry.add(prefix + "_run");
      registry.add(prefix + "_get_c_metadata");
      if (config.packedOperators()) registry.add(prefix + "___tvm_main__");
      registry.addAll(opFunctions.values());
    } else {
      registry.addAll(opFunctions.values());
      registry.add(prefix + "_get_c_metadata");
    }
    this.files = build();
  }

  public ExecutorConfig config() { return config; }

  /** The symbol prefix, e.g. {@code tvmgen_default}. */
  public String prefix() { return prefix; }

  /** Names in the system library, in table order (function handle 0x80008000 + index). */
  public List<String> systemLibraryFunctions() { return List.copyOf(registry); }

  /** The AoT entry's registry name, {@code <prefix>_run}. */
  public String runFunction() { return prefix + "_run"; }

  public String metadataFunction() { return prefix + "_get_c_metadata"; }

  /** The packed function of each op (graph: every op; AoT with unpacked-api false: every non-view op). */
  public Map<Op, String> operatorFunctions() { return java.util.Collections.unmodifiableMap(opFunctions); }

  /** The graph executor's JSON and storage plan; empty for AoT. */
  public Optional<GraphJson> graphJson() { return Optional.ofNullable(graphJson); }

  /** Bytes of all model inputs and outputs together. */
  public long ioBytes() {
    long n = 0;
    for (Tensor t : graph.inputs()) n += t.byteSize();
    for (Tensor t : graph.outputs()) n += t.byteSize();
    return n;
  }

  /** Bytes of the static scratch buffer of the packed operators (graph executor only). */
  public long scratchBytes() { return scratchBytes; }

  /** All files, paths relative to {@code codegen/host}. */
  public List<GeneratedFile> files() { return files; }

  private List<GeneratedFile> build() {
    List<GeneratedFile> out = new ArrayList<>();
    out.add(new GeneratedFile("include/" + prefix + ".h", base.header(config.cInterface())));
    out.add(new GeneratedFile("include/" + prefix + "_packed.h", packedHeader()));
    out.add(new GeneratedFile("src/" + mod + "_lib0.c", base.constants()));
    out.add(new GeneratedFile("src/" + mod + "_lib1.c",
        config.cInterface() && config.unpackedApi() ? base.operators() : operators()));
    out.add(new GeneratedFile("src/" + mod + "_lib2.c", systemLibrary()));
    out.addAll(ModelWriter.kernelFiles(out));
    // The runtime headers the generated files include, so that include/ is all they need (as in a
    // microTVM project, which puts only codegen/host/include and TVM's CRT on the include path).
    for (String header : RUNTIME_HEADERS) {
      out.add(new GeneratedFile("include/" + header.substring(header.indexOf('/') + 1), ModelWriter.resource(RUNTIME + header)));
    }
    return out;
  }

  /** Runtime headers (under runtime/) that generated sources include: types, status codes, registry, metadata. */
  static final List<String> RUNTIME_HEADERS = List.of("crt/kiln_types.h", "crt/kiln_errors.h", "crt/kiln_syslib.h",
      "executors/kiln_generated.h", "executors/kiln_metadata.h");
  private static final String RUNTIME = "/dev/kiln/runtime/";

  // ---- packed header ------------------------------------------------------------------------

  private String packedHeader() {
    CodeWriter w = new CodeWriter();
    String guard = prefix.toUpperCase(Locale.ROOT) + "_PACKED_H_";
    w.comment("Generated by Kiln: the packed functions of " + ModelWriter.fileName(graph.source()) + " for " + config
        + ".\nEach takes TVM's packed arguments; tensors are DLTensors (type code 3, 7 or 13) of the exact dtype and size.");
    w.line("#ifndef " + guard).line("#define " + guard).line("");
    w.line("#include <stdint.h>").line("").line("#include \"kiln_types.h\"").line("");
    w.line("#ifdef __cplusplus").line("extern \"C\" {").line("#endif").line("");
    for (Map.Entry<Op, String> e : opFunctions.entrySet()) {
      Op op = e.getKey();
      w.comment("op " + op.index() + " " + op.type() + ": " + argsText(op));
      w.line("int " + e.getValue() + "(" + PACKED_PARAMS + ");");
    }
    if (!config.isGraph()) {
      if (config.packedOperators()) {
        w.comment("The model, inputs then outputs as DLTensors (TVM's ___tvm_main__ with unpacked-api=false).");
        w.line("int " + prefix + "___tvm_main__(" + PACKED_PARAMS + ");");
      } else {
        w.comment("The model with raw pointers, inputs then outputs (unpacked-api=true).");
        w.line("int32_t " + prefix + "___tvm_main__(" + rawParams() + ");");
      }
      if (!config.cInterface()) {
        w.comment("The entry the AoT executor calls: inputs then outputs as DLTensors, exactly (no workspace pools).");
        w.line("int " + prefix + "_run(" + PACKED_PARAMS + ");");
        ModelWriter.opHookDeclaration(w, prefix);
      } else {
        w.comment(prefix + "_run is the C function of " + prefix + ".h; the system library registers a packed wrapper under that name.");
      }
    }
    w.comment("The metadata (kiln_metadata.h) as an opaque handle; no arguments.");
    w.line("int " + prefix + "_get_c_metadata(" + PACKED_PARAMS + ");").line("");
    w.line("#ifdef __cplusplus").line("}").line("#endif").line("");
    w.line("#endif /* " + guard + " */");
    return w.toString();
  }

  private String argsText(Op op) {
    StringBuilder sb = new StringBuilder();
    for (Tensor t : GraphJson.activationInputs(op)) sb.append(sb.length() == 0 ? "" : ", ").append(t.describeNames());
    sb.append(sb.length() == 0 ? "-> " : " -> ");
    for (int i = 0; i < op.outputs().size(); i++) sb.append(i == 0 ? "" : ", ").append(op.outputs().get(i).describeNames());
    return sb.toString();
  }

  private String rawParams() {
    List<String> p = new ArrayList<>();
    for (int i = 0; i < graph.inputs().size(); i++) p.add("void *in" + i);
    for (int j = 0; j < graph.outputs().size(); j++) p.add("void *out" + j);
    return String.join(", ", p);
  }

  // ---- operators and entry (lib1) -----------------------------------------------------------

  private String operators() {
    CodeWriter globals = new CodeWriter();
    CodeWriter functions = new CodeWriter();
    Set<String> names = new HashSet<>();
    Map<String, String> emitted = new HashMap<>();
    Set<Tensor> shapes = new LinkedHashSet<>();
    for (Map.Entry<Op, String> e : opFunctions.entrySet()) {
      opFunction(e.getKey(), e.getValue(), globals, functions, names, emitted);
      functions.line("");
    }
    if (!config.isGraph()) {
      if (config.packedOperators()) {
        packedMain(functions);
      } else {
        unpackedMain(globals, functions, names, emitted);
      }
      functions.line("");
      entry(functions, shapes);
    }
    CodeWriter w = new CodeWriter();
    w.comment("Generated by Kiln: the operators of " + ModelWriter.fileName(graph.source()) + " for " + config + ".");
    w.line("#include <stddef.h>").line("#include <stdint.h>").line("#include <string.h>").line("");
    // the graph executor calls the packed operators on every inference: their checks inline (kiln_generated.h)
    if (config.isGraph()) w.line("#define KILN_ARG_CHECK_INLINE").line("");
    w.line("#include \"kiln_errors.h\"").line("#include \"kiln_generated.h\"").line("#include \"kiln_types.h\"");
    w.line("#include \"" + prefix + ".h\"").line("#include \"" + prefix + "_packed.h\"");
    for (String h : Kernels.sources()) if (h.endsWith(".h")) w.line("#include \"" + h + "\"");
    w.line("");
    for (Tensor t : base.usedConstants()) {
      w.linef("extern const %s %s[%d];", t.dtype().cType(), base.constantName(t), Math.max(1, (int) t.elements()));
    }
    w.line("");
    if (!config.isGraph() && model.arenaBytes() > 0) {
      w.comment("The arena: intermediate tensors at offsets fixed by the memory plan (" + model.memoryPlan() + ").");
      w.begin("static union");
      w.line("uint8_t bytes[" + model.arenaBytes() + "];");
      w.line("int64_t align_i64;");
      w.line("double align_f64;");
      w.end(" " + prefix + "_arena;").line("");
    }
    if (!config.isGraph()) ModelWriter.opHook(w, prefix);
    base.variables(w);
    if (config.isGraph() && scratchBytes > 0) {
      w.comment("Scratch memory of the operators that need some (one runs at a time).");
      w.begin("static union");
      w.line("uint8_t bytes[" + scratchBytes + "];");
      w.line("int64_t align_i64;");
      w.line("double align_f64;");
      w.end(" " + prefix + "_scratch;").line("");
    }
    Set<String> shapeTables = new HashSet<>();
    for (Tensor t : shapes) {
      if (t.rank() == 0 || !shapeTables.add(shapeName(t))) continue;
      StringBuilder s = new StringBuilder();
      for (int d = 0; d < t.rank(); d++) s.append(d == 0 ? "" : ", ").append(t.dim(d));
      w.linef("static const int64_t %s[%d] = {%s};", shapeName(t), t.rank(), s);
    }
    if (!shapes.isEmpty()) w.line("");
    w.append(globals);
    w.line("");
    w.append(functions);
    return w.toString();
  }

  /** One shared table per distinct shape, e.g. {@code shape_1x8x8x1}. */
  private static String shapeName(Tensor t) {
    StringBuilder s = new StringBuilder("shape");
    for (int d = 0; d < t.rank(); d++) s.append(d == 0 ? "_" : "x").append(t.dim(d));
    return s.toString();
  }

  /** DLTensor arguments of one packed operator: activation inputs, then outputs. */
  private static List<Tensor> opArgs(Op op) {
    List<Tensor> args = new ArrayList<>(GraphJson.activationInputs(op));
    args.addAll(op.outputs());
    return args;
  }

  /**
   * One op as two functions: {@code static void op<i>_body(void *a0, ...)}, the kernel on raw pointers,
   * and the packed function, which checks its DLTensors and calls the body. AoT's {@code ___tvm_main__}
   * calls the bodies directly: its tensors are its own (checked once, on entry), so building DLTensors
   * for each op only to check them again cost code and time (issue 12). gcc inlines the bodies.
   */
  private void opFunction(Op op, String fn, CodeWriter globals, CodeWriter functions, Set<String> names,
                          Map<String, String> emitted) {
    List<Tensor> args = opArgs(op);
    String bodyName = "op" + op.index() + "_body";
    if (!names.add(bodyName)) throw new IllegalStateException(bodyName + " is taken in " + graph.name());
    opBodies.put(op, bodyName);
    List<String> params = new ArrayList<>();
    List<String> call = new ArrayList<>();
    for (int k = 0; k < args.size(); k++) {
      params.add("void *a" + k);
      call.add("a" + k);
    }
    Function<Tensor, String> pointer = t -> {
      if (t.isConstant()) return base.constantName(t);
      if (t.isVariable()) return base.variableName(t);
      int k = args.indexOf(t);
      if (k < 0) throw new IllegalStateException("op " + op + " uses " + t.describeNames() + ", which is not an argument");
      return "((" + t.dtype().cType() + " *)a" + k + ")";
    };
    CodeWriter body = new CodeWriter();
    if (op.type().isView()) {
      String from = op.input(0).isConstant() ? "(const void *)" + base.constantName(op.input(0)) : "a0";
      String to = "a" + (args.size() - 1);
      body.comment("a view: the graph gives it its source's storage, so there is normally nothing to copy");
      body.linef("if ((const void *)%s != (const void *)%s) memmove(%s, %s, %d);", to, from, to, from,
          op.output().byteSize());
    } else {
      String scratch = config.isGraph()
          ? "((void *)" + prefix + "_scratch.bytes)"
          : null;
      OpContext ctx = new OpContext(op, globals, body, names, emitted, pointer,
          () -> scratch != null ? scratch : "((void *)(" + prefix + "_arena.bytes + " + model.scratchOffset(op) + "))");
      Kernels.emitter(op.type()).orElseThrow().emit(op, ctx);
    }
    functions.comment("op " + op.index() + ": " + op.type() + " " + argsText(op));
    functions.begin("static void " + bodyName + "(" + (params.isEmpty() ? "void" : String.join(", ", params)) + ")");
    String text = body.toString();
    for (String a : call) if (!java.util.regex.Pattern.compile("\\b" + a + "\\b").matcher(text).find()) functions.line("(void)" + a + ";");
    functions.append(body);
    functions.end();
    functions.line("");
    functions.begin("int " + fn + "(" + PACKED_PARAMS + ")");
    if (!args.isEmpty()) functions.line("void *" + String.join(", *", call) + ";");
    else functions.line("(void)args;").line("(void)type_codes;"); // CALL_ONCE: nothing in, nothing out
    functions.line("(void)out_value;").line("(void)out_type_code;").line("(void)resource_handle;");
    String takes = CLiterals.string(fn + " (op " + op.index() + " " + op.type() + "): " + takes(args, List.of()));
    functions.linef("if (num_args != %d) return kiln_arg_error(%s, KILN_ERR_NUM_ARGUMENTS);", args.size(), takes);
    List<String> nulls = new ArrayList<>();
    for (int k = 0; k < args.size(); k++) {
      Tensor t = args.get(k);
      int[] dl = DeviceMetadata.dlType(t.dtype());
      functions.linef("a%d = kiln_arg_data(args, type_codes, %d, %d, %d, %dULL);", k, k, dl[0], dl[1], t.byteSize());
      nulls.add("a" + k + " == NULL");
    }
    if (!nulls.isEmpty()) functions.line("if (" + String.join(" || ", nulls) + ") return kiln_arg_error(" + takes + ", KILN_ERR_WRONG_ARG_TYPE);");
    functions.line(bodyName + "(" + String.join(", ", call) + ");");
    functions.line("return 0;");
    functions.end();
  }

  /** Pointer of a tensor inside a main function: inputs in<i>, outputs out<j>, constants, the arena. */
  private String rawPointer(Tensor t, boolean[] usesArena) {
    if (t.isVariable()) return base.variableName(t); // also a subgraph's tensor of a shared resource variable
    Storage s = model.storage(t);
    if (s instanceof Storage.Input in) return "in" + in.index();
    if (s instanceof Storage.Output out) return "out" + out.index();
    if (s instanceof Storage.Constant c) return base.constantName(graph.tensors().get(c.tensorId()));
    if (s instanceof Storage.Variable v) return base.variableName(graph.tensors().get(v.tensorId()));
    usesArena[0] = true;
    return "(arena + " + ((Storage.Arena) s).offset() + ")";
  }

  private void views(Op op, CodeWriter body, boolean[] usesArena) {
    Storage from = model.storage(op.input(0));
    Storage to = model.storage(op.output());
    if (from.equals(to)) {
      body.comment("a view: shares the bytes of " + op.input(0).describeNames());
    } else {
      body.linef("memcpy(%s, %s, %d);", rawPointer(op.output(), usesArena), rawPointer(op.input(0), usesArena),
          op.output().byteSize());
    }
  }

  private void outputCopies(CodeWriter body, boolean[] usesArena) {
    for (int j = 0; j < graph.outputs().size(); j++) {
      Tensor t = graph.outputs().get(j);
      if (!(model.storage(t) instanceof Storage.Output o && o.index() == j)) {
        body.comment("output " + j + " " + t.describeNames() + " lives elsewhere: copy it");
        body.linef("memcpy(out%d, %s, %d);", j, rawPointer(t, usesArena), t.byteSize());
      }
    }
  }

  /**
   * AoT, unpacked-api=false: the packed signature, the inputs and outputs checked once, then each op's
   * body (opFunction) on raw pointers into the arena and the I/O buffers. The packed operators stay in
   * the system library for the host to call one by one.
   */
  private void packedMain(CodeWriter functions) {
    boolean[] usesArena = {false};
    CodeWriter body = new CodeWriter();
    for (Op op : graph.ops()) {
      body.comment(ModelWriter.title(op));
      if (op.type().isView()) {
        views(op, body, usesArena);
        ModelWriter.opDone(body, prefix, op);
        continue;
      }
      List<String> call = new ArrayList<>();
      for (Tensor t : opArgs(op)) call.add(rawPointer(t, usesArena));
      body.line(opBodies.get(op) + "(" + String.join(", ", call) + ");");
      ModelWriter.opDone(body, prefix, op);
    }
    outputCopies(body, usesArena);
    functions.comment("The model: inputs then outputs as DLTensors (unpacked-api=false), checked here; then each op on raw pointers.");
    functions.begin("int " + prefix + "___tvm_main__(" + PACKED_PARAMS + ")");
    if (usesArena[0]) functions.line("uint8_t *arena = " + prefix + "_arena.bytes;");
    List<String> io = new ArrayList<>();
    for (int i = 0; i < graph.inputs().size(); i++) io.add("*in" + i);
    for (int j = 0; j < graph.outputs().size(); j++) io.add("*out" + j);
    functions.line("void " + String.join(", ", io) + ";");
    functions.line("(void)out_value;").line("(void)out_type_code;").line("(void)resource_handle;");
    // with interface-api=packed the host reaches this through <prefix>_run: name that in the text
    readArgs(functions, prefix + (config.cInterface() ? "___tvm_main__" : "_run"));
    functions.append(body);
    functions.line("return 0;");
    functions.end();
  }

  /**
   * in<i> = ..., out<j> = ... from packed arguments, with the checks. Exactly the inputs and outputs:
   * the metadata declares no workspace pool (the arena is static here), so microTVM's AoT executor
   * passes no pool slot either.
   */
  private void readArgs(CodeWriter w, String function) {
    List<Tensor> io = new ArrayList<>(graph.inputs());
    io.addAll(graph.outputs());
    int n = io.size();
    String takes = CLiterals.string(function + ": " + takes(io, io));
    w.linef("if (num_args != %d) return kiln_arg_error(%s, KILN_ERR_NUM_ARGUMENTS);", n, takes);
    List<String> nulls = new ArrayList<>();
    for (int k = 0; k < io.size(); k++) {
      Tensor t = io.get(k);
      String var = k < graph.inputs().size() ? "in" + k : "out" + (k - graph.inputs().size());
      int[] dl = DeviceMetadata.dlType(t.dtype());
      w.linef("%s = kiln_arg_data(args, type_codes, %d, %d, %d, %dULL);", var, k, dl[0], dl[1], t.byteSize());
      nulls.add(var + " == NULL");
    }
    w.line("if (" + String.join(" || ", nulls) + ") return kiln_arg_error(" + takes + ", KILN_ERR_WRONG_ARG_TYPE);");
  }

  /**
   * What a packed function takes, for its error text: "takes 2 DLTensors (inputs, then outputs):
   * int8[1,28,28,1], int8[1,10]"; with {@code named} tensors their C names follow the types.
   */
  private String takes(List<Tensor> args, List<Tensor> named) {
    StringBuilder sb = new StringBuilder("takes " + args.size() + " DLTensor" + (args.size() == 1 ? "" : "s")
        + " (inputs, then outputs): ");
    for (int k = 0; k < args.size(); k++) {
      Tensor t = args.get(k);
      sb.append(k == 0 ? "" : ", ").append(t.dtype().numpyName()).append(dev.kiln.ir.Shape.toString(t.shape()).replace(" ", ""));
      if (named.contains(t)) sb.append(' ').append(t.cName());
    }
    return sb.toString();
  }

  /** AoT, unpacked-api=true: the kernels inline, with raw pointers. */
  private void unpackedMain(CodeWriter globals, CodeWriter functions, Set<String> names, Map<String, String> emitted) {
    boolean[] usesArena = {false};
    CodeWriter body = new CodeWriter();
    for (Op op : graph.ops()) {
      body.comment(ModelWriter.title(op));
      if (op.type().isView()) {
        views(op, body, usesArena);
        ModelWriter.opDone(body, prefix, op);
        continue;
      }
      Function<Tensor, String> pointer = t -> {
        String p = rawPointer(t, usesArena);
        return t.isConstant() ? p : "((" + t.dtype().cType() + " *)" + p + ")";
      };
      OpContext ctx = new OpContext(op, globals, body, names, emitted, pointer, () -> {
        usesArena[0] = true;
        return "((void *)(arena + " + model.scratchOffset(op) + "))";
      });
      Kernels.emitter(op.type()).orElseThrow().emit(op, ctx);
      ModelWriter.opDone(body, prefix, op);
    }
    outputCopies(body, usesArena);
    functions.comment("The model with raw pointers: inputs then outputs (unpacked-api=true).");
    functions.begin("int32_t " + prefix + "___tvm_main__(" + rawParams() + ")");
    if (usesArena[0]) functions.line("uint8_t *arena = " + prefix + "_arena.bytes;");
    for (int i = 0; i < graph.inputs().size(); i++) {
      Tensor in = graph.inputs().get(i);
      if (graph.consumers(in).isEmpty() && !graph.outputs().contains(in)) functions.line("(void)in" + i + "; /* no op reads it */");
    }
    functions.append(body);
    functions.line("return 0;");
    functions.end();
  }

  /** The entry: packed {@code <prefix>_run}, or the C-interface function over a packed main. */
  private void entry(CodeWriter w, Set<Tensor> shapes) {
    int n = graph.inputs().size() + graph.outputs().size();
    if (!config.cInterface()) {
      w.comment("The entry the AoT executor calls: inputs then outputs as DLTensors.");
      w.begin("int " + prefix + "_run(" + PACKED_PARAMS + ")");
      if (config.packedOperators()) {
        w.line("return " + prefix + "___tvm_main__(args, type_codes, num_args, out_value, out_type_code, resource_handle);");
      } else {
        List<String> io = new ArrayList<>();
        List<String> call = new ArrayList<>();
        for (int i = 0; i < graph.inputs().size(); i++) {
          io.add("*in" + i);
          call.add("in" + i);
        }
        for (int j = 0; j < graph.outputs().size(); j++) {
          io.add("*out" + j);
          call.add("out" + j);
        }
        w.line("void " + String.join(", ", io) + ";");
        w.line("(void)out_value;").line("(void)out_type_code;").line("(void)resource_handle;");
        readArgs(w, prefix + "_run");
        w.line("return " + prefix + "___tvm_main__(" + String.join(", ", call) + ");");
      }
      w.end();
      return;
    }
    // interface-api=c, unpacked-api=false: the firmware function wraps its pointers in DLTensors
    w.comment("Runs the model once (the C interface of " + prefix + ".h). Returns 0 on success, -1 if a buffer\n"
        + "pointer is NULL, else the failing operator's status.");
    w.begin("int32_t " + prefix + "_run(struct " + prefix + "_inputs *inputs, struct " + prefix + "_outputs *outputs)");
    w.linef("kiln_dltensor t[%d];", n);
    w.linef("kiln_value v[%d];", n);
    w.linef("int c[%d];", n);
    w.line("kiln_value ret;");
    w.line("int ret_code = KILN_TC_NULLPTR;");
    StringBuilder nullCheck = new StringBuilder("if (inputs == NULL || outputs == NULL");
    for (Tensor t : graph.inputs()) nullCheck.append(" || inputs->").append(t.cName()).append(" == NULL");
    for (Tensor t : graph.outputs()) nullCheck.append(" || outputs->").append(t.cName()).append(" == NULL");
    w.line(nullCheck + ") return -1;");
    List<Tensor> io = new ArrayList<>(graph.inputs());
    io.addAll(graph.outputs());
    for (int k = 0; k < io.size(); k++) {
      Tensor t = io.get(k);
      int[] dl = DeviceMetadata.dlType(t.dtype());
      if (t.rank() > 0) shapes.add(t);
      String field = (k < graph.inputs().size() ? "inputs->" : "outputs->") + t.cName();
      w.linef("kiln_tensor_arg(&t[%d], &v[%d], &c[%d], %s, %d, %s, %d, %d);", k, k, k, field, t.rank(),
          t.rank() > 0 ? shapeName(t) : "NULL", dl[0], dl[1]);
    }
    w.line("ret.v_handle = NULL;");
    w.linef("return %s___tvm_main__(v, c, %d, &ret, &ret_code, NULL);", prefix, n);
    w.end();
  }

  // ---- system library (lib2) ----------------------------------------------------------------

  private String systemLibrary() {
    CodeWriter w = new CodeWriter();
    w.comment("Generated by Kiln: the system library of " + ModelWriter.fileName(graph.source()) + " for " + config
        + ":\nmetadata, its getter and the function table the runtime serves (kiln_syslib.h).");
    w.line("#include <float.h>").line("#include <stddef.h>").line("#include <stdint.h>").line("");
    w.line("#include \"kiln_errors.h\"").line("#include \"kiln_generated.h\"").line("#include \"kiln_metadata.h\"");
    w.line("#include \"kiln_syslib.h\"").line("#include \"kiln_types.h\"");
    w.line("#include \"" + prefix + ".h\"").line("#include \"" + prefix + "_packed.h\"").line("");
    DeviceMetadata.write(w, model, config, scratchBytes);
    w.line("");
    String runSymbol = prefix + "_run";
    if (config.cInterface()) {
      runSymbol = prefix + "_run_packed";
      w.comment("The packed wrapper of the C-interface " + prefix + "_run, registered under that name:\n"
          + "inputs then outputs as DLTensors, exactly (no workspace pools).");
      w.begin("static int " + runSymbol + "(" + PACKED_PARAMS + ")");
      w.line("struct " + prefix + "_inputs inputs;");
      w.line("struct " + prefix + "_outputs outputs;");
      w.line("(void)out_value;").line("(void)out_type_code;").line("(void)resource_handle;");
      List<Tensor> io = new ArrayList<>(graph.inputs());
      io.addAll(graph.outputs());
      String takes = CLiterals.string(prefix + "_run: " + takes(io, io));
      w.linef("if (num_args != %d) return kiln_arg_error(%s, KILN_ERR_NUM_ARGUMENTS);", io.size(), takes);
      List<String> nulls = new ArrayList<>();
      for (int k = 0; k < io.size(); k++) {
        Tensor t = io.get(k);
        int[] dl = DeviceMetadata.dlType(t.dtype());
        String field = (k < graph.inputs().size() ? "inputs." : "outputs.") + t.cName();
        w.linef("%s = kiln_arg_data(args, type_codes, %d, %d, %d, %dULL);", field, k, dl[0], dl[1], t.byteSize());
        nulls.add(field + " == NULL");
      }
      w.line("if (" + String.join(" || ", nulls) + ") return kiln_arg_error(" + takes + ", KILN_ERR_WRONG_ARG_TYPE);");
      w.line("return " + prefix + "_run(&inputs, &outputs);");
      w.end().line("");
    }
    int n = registry.size();
    w.comment("The system library, function handle 0x80008000 + index in this order on either runtime.\n"
        + "microTVM's CRT: TVMSystemLibEntryPoint, a TVMFuncRegistry whose names blob is a little-endian\n"
        + "uint16 count, then each name NUL-terminated, then one more NUL (the literal's own).");
    List<Integer> offsets = new ArrayList<>();
    int offset = 2;
    for (String name : registry) {
      offsets.add(offset);
      offset += name.length() + 1;
    }
    if (offset < C99_STRING_LITERAL_MAX) {
      w.line("static const char kFunctionNames[] =");
      w.linef("    \"\\x%02x\" \"\\x%02x\"", n & 0xFF, (n >> 8) & 0xFF);
      for (int i = 0; i < n; i++) w.linef("    \"%s\\0\"%s", registry.get(i), i + 1 < n ? "" : ";");
    } else {
      // a string literal this long is over what C99 promises (-pedantic refuses it): the same bytes as characters
      w.begin("static const char kFunctionNames[" + (offset + 1) + "] =");
      w.linef("(char)0x%02x, (char)0x%02x,", n & 0xFF, (n >> 8) & 0xFF);
      for (String name : registry) {
        StringBuilder chars = new StringBuilder();
        for (char ch : name.toCharArray()) chars.append('\'').append(ch).append("', ");
        w.line(chars + "0,");
      }
      w.line("0");
      w.end(";");
    }
    w.begin("static const kiln_packed_fn kFunctionPointers[" + n + "] =");
    for (int i = 0; i < n; i++) w.linef("%s%s", symbol(registry.get(i), runSymbol), i + 1 < n ? "," : "");
    w.end(";");
    w.line("static const kiln_tvm_func_registry kFunctionRegistry = {kFunctionNames, kFunctionPointers};");
    w.line("static const kiln_tvm_module kTvmSystemLib = {&kFunctionRegistry};").line("");
    w.line("const kiln_tvm_module *TVMSystemLibEntryPoint(void) { return &kTvmSystemLib; }").line("");
    w.comment("Kiln's runtime: the same functions under the same names (pointers into the blob).");
    w.begin("static const kiln_function kFunctions[" + n + "] =");
    for (int i = 0; i < n; i++) {
      w.linef("{kFunctionNames + %d, %s}%s", offsets.get(i), symbol(registry.get(i), runSymbol), i + 1 < n ? "," : "");
    }
    w.end(";");
    w.linef("static const kiln_module kSystemLib = {%s, kFunctions, %d, NULL};", CLiterals.string(mod), n);
    w.line("");
    w.line("const kiln_module *kiln_system_lib(void) { return &kSystemLib; }");
    return w.toString();
  }

  /** The longest string literal (in bytes, its NUL included) every C99 compiler must accept (5.2.4.1). */
  private static final int C99_STRING_LITERAL_MAX = 4095;

  private String symbol(String name, String runSymbol) { return name.equals(prefix + "_run") ? runSymbol : name; }

  /** DLPack (code, bits) of a dtype, for callers outside the package. */
  public static int[] dlType(DType t) { return DeviceMetadata.dlType(t); }
}
