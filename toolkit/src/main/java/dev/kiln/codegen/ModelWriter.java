package dev.kiln.codegen;

import dev.kiln.codegen.kernels.Kernels;
import dev.kiln.compile.CompiledModel;
import dev.kiln.compile.Storage;
import dev.kiln.ir.CNames;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Writes a compiled model as C99 in the AoT C-interface shape microTVM users know:
 * {@code include/tvmgen_<mod>.h} (I/O structs, sizes, names, shapes, quantization, arena size),
 * {@code src/<mod>_lib0.c} (linked constants and I/O tables), {@code src/<mod>_lib1.c} (the ops and
 * {@code tvmgen_<mod>_run}), plus the kernel library the ops call. Same input, same bytes out.
 */
public final class ModelWriter {
  private static final String KERNEL_RESOURCES = "/dev/kiln/runtime/kernels/";
  /** The member of an I/O struct of a model without inputs (or outputs): C99 has no empty struct. */
  private static final String UNUSED_FIELD = "void *unused; /* the model has none: C99 forbids an empty struct; never read */";

  private final CompiledModel model;
  private final Graph graph;
  private final String mod;
  private final String prefix;
  private final String macroPrefix;

  public ModelWriter(CompiledModel model, String moduleName) {
    if (!CNames.isIdentifierPart(moduleName)) {
      throw new IllegalArgumentException("module name must be a C identifier: '" + moduleName + "'");
    }
    this.model = model;
    this.graph = model.graph();
    this.mod = moduleName;
    this.prefix = "tvmgen_" + moduleName.toLowerCase(Locale.ROOT);
    this.macroPrefix = prefix.toUpperCase(Locale.ROOT);
  }

  /** The module's function prefix, e.g. {@code tvmgen_default}. */
  public String prefix() { return prefix; }

  /** All files, paths relative to the {@code codegen/host} folder. */
  public List<GeneratedFile> files() {
    List<GeneratedFile> files = new ArrayList<>();
    files.add(new GeneratedFile("include/" + prefix + ".h", header()));
    files.add(new GeneratedFile("src/" + mod + "_lib0.c", constants()));
    files.add(new GeneratedFile("src/" + mod + "_lib1.c", operators()));
    files.addAll(kernelFiles(files));
    return files;
  }

  private static final java.util.regex.Pattern KERNEL_SYMBOL = java.util.regex.Pattern.compile("\\bkiln_\\w+");
  /** A function a header declares: its name before "(", or a declaring macro's first argument. */
  private static final java.util.regex.Pattern KERNEL_DECLARATION =
      java.util.regex.Pattern.compile("\\b(kiln_\\w+)\\s*\\(|\\(\\s*(kiln_\\w+)\\s*,");
  /** The fixed part of a name a header's declaring macro pastes together, {@code kiln_equal_##suffix}. */
  private static final java.util.regex.Pattern KERNEL_PASTED = java.util.regex.Pattern.compile("\\b(kiln_\\w+)##");
  /** A function a kernel source defines for itself (static). */
  private static final java.util.regex.Pattern KERNEL_STATIC =
      java.util.regex.Pattern.compile("(?m)^static\\b[^;{=]*?\\b(kiln_\\w+)\\s*\\(");
  /** A function defined with external linkage at the start of a line of a kernel source. */
  private static final java.util.regex.Pattern KERNEL_DEFINITION =
      java.util.regex.Pattern.compile("(?m)^(?!static\\b|typedef\\b|extern\\b)[A-Za-z_][\\w ]*[\\s*](kiln_\\w+)\\s*\\(");

  /**
   * The kernel library's files a model needs: every header (the operators file includes them all)
   * and only the sources that define a function the generated files call, or one those call, so a
   * model compiles only the kernels it uses (a linker with --gc-sections drops the rest anyway). A
   * function is found where a source defines it by name, else (a definition made by a macro) in the
   * sources that follow the headers declaring it, by name or as a pasted {@code kiln_name_##suffix},
   * in {@link Kernels#sources()} (a family's headers, then its sources).
   */
  static List<GeneratedFile> kernelFiles(List<GeneratedFile> generated) {
    Map<String, List<String>> definedIn = new HashMap<>();
    Map<String, List<String>> declaredIn = new HashMap<>();
    Map<String, List<String>> prefixedIn = new HashMap<>();
    Map<String, List<String>> localIn = new HashMap<>();
    Map<String, String> text = new HashMap<>();
    List<String> sources = Kernels.sources();
    for (int i = 0; i < sources.size(); i++) {
      String name = sources.get(i);
      String body = resource(KERNEL_RESOURCES + name);
      text.put(name, body);
      if (name.endsWith(".c")) {
        var m = KERNEL_DEFINITION.matcher(body);
        while (m.find()) definedIn.putIfAbsent(m.group(1), List.of(name));
        var local = KERNEL_STATIC.matcher(body);
        while (local.find()) localIn.putIfAbsent(local.group(1), List.of(name)); // called only where defined
        continue;
      }
      int first = i + 1;
      while (first < sources.size() && sources.get(first).endsWith(".h")) first++;
      int end = first;
      while (end < sources.size() && sources.get(end).endsWith(".c")) end++;
      List<String> family = sources.subList(first, end);
      var m = KERNEL_DECLARATION.matcher(body);
      while (m.find()) declaredIn.putIfAbsent(m.group(1) != null ? m.group(1) : m.group(2), family);
      var pasted = KERNEL_PASTED.matcher(body);
      while (pasted.find()) prefixedIn.putIfAbsent(pasted.group(1), family);
    }
    Set<String> needed = new HashSet<>();
    java.util.ArrayDeque<String> pending = new java.util.ArrayDeque<>();
    for (GeneratedFile f : generated) pending.add(f.text());
    while (!pending.isEmpty()) {
      var m = KERNEL_SYMBOL.matcher(pending.poll());
      while (m.find()) {
        String symbol = m.group();
        List<String> files = definedIn.getOrDefault(symbol, declaredIn.get(symbol));
        for (Map.Entry<String, List<String>> e : prefixedIn.entrySet()) {
          if (files == null && symbol.startsWith(e.getKey())) files = e.getValue();
        }
        // a static function of a kernel source (after the above: a static may share an external's name)
        if (files == null) files = localIn.get(symbol);
        // a kernel symbol found nowhere else (a name made some other way): every source, to be safe
        if (files == null && !text.containsKey(symbol + ".h") && symbol.matches("kiln_\\w+_(s8|u8|s16|i16|i32|i64|f32|b)")) {
          files = new ArrayList<>();
          for (String name : sources) if (name.endsWith(".c")) files.add(name);
        }
        if (files == null) continue;
        for (String file : files) if (needed.add(file)) pending.add(text.get(file));
      }
    }
    List<GeneratedFile> out = new ArrayList<>();
    for (String name : sources) {
      if (name.endsWith(".h")) out.add(new GeneratedFile("include/" + name, withSwitches(text.get(name), generated)));
      else if (needed.contains(name)) out.add(new GeneratedFile("src/" + name, text.get(name)));
    }
    return out;
  }

  /** A kernel header's default-off switch (KernelContext#useKernelSwitch). */
  private static final java.util.regex.Pattern KERNEL_SWITCH =
      java.util.regex.Pattern.compile("(?m)^#define (KILN_\\w+_USED) 0$");

  /**
   * A kernel header with each default-off switch ({@code #define KILN_..._USED 0}) that the
   * generated files name (an emitter's KernelContext#useKernelSwitch) set to 1, so the kernels this
   * model needs it for compile with that code, from the generated files alone (the documented
   * build line, a user's own main); every other model's copy keeps the header as it is.
   */
  static String withSwitches(String header, List<GeneratedFile> generated) {
    var m = KERNEL_SWITCH.matcher(header);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      var named = java.util.regex.Pattern.compile("\\b" + m.group(1) + "\\b");
      boolean used = generated.stream().anyMatch(f -> named.matcher(f.text()).find());
      m.appendReplacement(out, used ? "#define " + m.group(1) + " 1 /* set by Kiln: the generated code needs it */" : "$0");
    }
    m.appendTail(out);
    return out.toString();
  }

  // ---- header -------------------------------------------------------------------------------

  String header() { return header(true); }

  /**
   * The header; with {@code cRun} false (device code whose {@code <prefix>_run} is a packed function)
   * the C-interface run declaration is left out.
   */
  String header(boolean cRun) {
    CodeWriter w = new CodeWriter();
    String guard = macroPrefix + "_H_";
    w.comment("Generated by Kiln from " + fileName(graph.source()) + ". Model-order inputs and outputs;\n"
        + "each struct field is the tensor's C name, the model name is in the _NAME macros.");
    w.line("#ifndef " + guard).line("#define " + guard).line("");
    w.line("#include <stdint.h>").line("");
    w.line("#ifdef __cplusplus").line("extern \"C\" {").line("#endif").line("");
    w.linef("#define %s_INPUT_COUNT %d", macroPrefix, graph.inputs().size());
    w.linef("#define %s_OUTPUT_COUNT %d", macroPrefix, graph.outputs().size());
    w.comment("Bytes of the static arena (intermediate tensors) linked into " + mod + "_lib1.c.");
    w.linef("#define %s_WORKSPACE_SIZE %d", macroPrefix, model.arenaBytes());
    w.linef("#define %s_CONSTANTS_SIZE %d", macroPrefix, graph.weightBytes());
    w.line("");
    Set<String> macroNames = new HashSet<>();
    for (int i = 0; i < graph.inputs().size(); i++) tensorMacros(w, "INPUT" + i, graph.inputs().get(i), macroNames);
    for (int j = 0; j < graph.outputs().size(); j++) tensorMacros(w, "OUTPUT" + j, graph.outputs().get(j), macroNames);
    w.comment("Input buffers, one pointer per model input in the model's order.");
    w.begin("struct " + prefix + "_inputs");
    for (Tensor t : graph.inputs()) w.line("void *" + t.cName() + ";");
    if (graph.inputs().isEmpty()) w.line(UNUSED_FIELD);
    w.end(";").line("");
    w.comment("Output buffers, one pointer per model output in the model's order.");
    w.begin("struct " + prefix + "_outputs");
    for (Tensor t : graph.outputs()) w.line("void *" + t.cName() + ";");
    if (graph.outputs().isEmpty()) w.line(UNUSED_FIELD);
    w.end(";").line("");
    w.comment("Description of one input or output, for firmware that wants to check or print it.");
    w.begin("struct " + prefix + "_tensor_info");
    w.line("const char *name;      /* exact name in the model */");
    w.line("const char *c_name;    /* struct field name */");
    w.line("const char *dtype;     /* numpy spelling: int8, float32, ... */");
    w.line("int32_t rank;");
    w.line("const int32_t *shape;");
    w.line("int32_t bytes;");
    w.line("int32_t quantized;     /* 1 if scale/zero_point apply: real = scale * (q - zero_point) */");
    w.line("float scale;");
    w.line("int32_t zero_point;");
    w.end(";").line("");
    w.linef("extern const struct %s_tensor_info %s_input_info[%d];", prefix, prefix, Math.max(1, graph.inputs().size()));
    w.linef("extern const struct %s_tensor_info %s_output_info[%d];", prefix, prefix, Math.max(1, graph.outputs().size()));
    w.line("");
    if (cRun) {
      w.comment("Runs the model once. Returns 0 on success, -1 if a buffer pointer is NULL.");
      w.linef("int32_t %s_run(struct %s_inputs *inputs, struct %s_outputs *outputs);", prefix, prefix, prefix);
      opHookDeclaration(w, prefix);
    } else {
      w.comment(prefix + "_run is a packed function here (interface-api=packed): see " + prefix + "_packed.h.");
    }
    w.line("");
    w.line("#ifdef __cplusplus").line("}").line("#endif").line("");
    w.line("#endif /* " + guard + " */");
    return w.toString();
  }

  private void tensorMacros(CodeWriter w, String slot, Tensor t, Set<String> macroNames) {
    String p = macroPrefix + "_" + slot;
    w.comment(slot.toLowerCase(Locale.ROOT) + ": " + t.describeNames().replace("*/", "* /"));
    w.linef("#define %s_NAME %s", p, CLiterals.string(t.name()));
    w.linef("#define %s_C_NAME %s", p, CLiterals.string(t.cName()));
    w.linef("#define %s_DTYPE %s", p, CLiterals.string(t.dtype().numpyName()));
    w.linef("#define %s_RANK %d", p, t.rank());
    StringBuilder shape = new StringBuilder("{");
    for (int d = 0; d < t.rank(); d++) shape.append(d == 0 ? "" : ", ").append(t.dim(d));
    w.linef("#define %s_SHAPE %s}", p, shape);
    w.linef("#define %s_SIZE %d", p, t.byteSize());
    Quantization q = t.quantization();
    if (q.isQuantized() && !q.isPerChannel()) {
      w.linef("#define %s_SCALE %s", p, CLiterals.f32(q.scale()));
      w.linef("#define %s_ZERO_POINT %d", p, q.zeroPoint());
    }
    // microTVM's spelling, TVMGEN_<MOD>_<NAME>_SIZE, when it is unambiguous.
    String byName = macroPrefix + "_" + t.cName().toUpperCase(Locale.ROOT) + "_SIZE";
    if (macroNames.add(byName) && !byName.startsWith(p)) w.linef("#define %s %d", byName, t.byteSize());
    w.line("");
  }

  // ---- constants (lib0) ---------------------------------------------------------------------

  String constants() {
    CodeWriter w = new CodeWriter();
    w.comment("Generated by Kiln: linked parameters and I/O descriptions of " + fileName(graph.source()) + ".");
    w.line("#include <stdint.h>").line("#include \"" + prefix + ".h\"").line("");
    for (Tensor t : usedConstants()) {
      w.comment(t.describeNames() + " " + dType(t) + " " + shapeText(t));
      ConstantArrays.write(w, "const " + t.dtype().cType() + " " + constantName(t), t.dtype(), t.data());
      w.line("");
    }
    infoTable(w, "input", graph.inputs());
    infoTable(w, "output", graph.outputs());
    return w.toString();
  }

  private void infoTable(CodeWriter w, String kind, List<Tensor> tensors) {
    for (int i = 0; i < tensors.size(); i++) {
      Tensor t = tensors.get(i);
      StringBuilder s = new StringBuilder();
      for (int d = 0; d < t.rank(); d++) s.append(d == 0 ? "" : ", ").append(t.dim(d));
      w.linef("static const int32_t %s_%s%d_shape[%d] = {%s};", prefix, kind, i, Math.max(1, t.rank()), t.rank() == 0 ? "0" : s);
    }
    w.begin("const struct " + prefix + "_tensor_info " + prefix + "_" + kind + "_info[" + Math.max(1, tensors.size()) + "] =");
    if (tensors.isEmpty()) w.line("{0, 0, 0, 0, 0, 0, 0, 0.0f, 0}");
    for (int i = 0; i < tensors.size(); i++) {
      Tensor t = tensors.get(i);
      Quantization q = t.quantization();
      boolean quant = q.isQuantized() && !q.isPerChannel();
      w.linef("{%s, %s, %s, %d, %s_%s%d_shape, %d, %d, %s, %d}%s", CLiterals.string(t.name()), CLiterals.string(t.cName()),
          CLiterals.string(t.dtype().numpyName()), t.rank(), prefix, kind, i, t.byteSize(), quant ? 1 : 0,
          CLiterals.f32(quant ? q.scale() : 0f), quant ? q.zeroPoint() : 0, i + 1 < tensors.size() ? "," : "");
    }
    w.end(";").line("");
  }

  List<Tensor> usedConstants() {
    Set<Tensor> used = new LinkedHashSet<>();
    for (Op op : graph.ops()) for (Tensor t : op.inputs()) if (t != null && t.isConstant()) used.add(t);
    return new ArrayList<>(used);
  }

  String constantName(Tensor t) { return prefix + "_c_" + t.cName(); }

  /**
   * Variable tensors some op reads (state kept between runs), in first-use order, those of the
   * subgraphs control-flow ops run included; one per C name (a resource variable's tensor in
   * several subgraphs is one buffer).
   */
  List<Tensor> usedVariables() {
    java.util.Map<String, Tensor> used = new java.util.LinkedHashMap<>();
    for (Op op : graph.opsWithSubgraphs()) for (Tensor t : op.inputs()) if (t != null && t.isVariable()) used.putIfAbsent(t.cName(), t);
    return new ArrayList<>(used.values());
  }

  /** The comment line above an op's code: index, type and first output (ASSIGN_VARIABLE and CALL_ONCE have none). */
  static String title(Op op) {
    return "op " + op.index() + ": " + op.type() + (op.outputs().isEmpty() ? "" : " " + op.output().describeNames());
  }

  String variableName(Tensor t) { return prefix + "_v_" + t.cName(); }

  /** The zero-initialized static buffers of the variables, outside the arena so they persist between runs. */
  void variables(CodeWriter w) {
    List<Tensor> vars = usedVariables();
    if (vars.isEmpty()) return;
    w.comment("Variables: state the ops update in place, kept from one run to the next (zero at start).");
    for (Tensor t : vars) {
      // TFLite resets an int8 variable to its zero point (the full-integer LSTM's output state), others to 0
      int zp = t.dtype() == dev.kiln.ir.DType.INT8 && t.quantization().isQuantized() ? t.quantization().zeroPoint() : 0;
      int n = Math.max(1, (int) t.elements());
      String init = zp == 0 ? "" : " = {" + String.join(", ", java.util.Collections.nCopies(n, Integer.toString(zp))) + "}";
      w.linef("static %s %s[%d]%s; /* %s */", t.dtype().cType(), variableName(t), n, init,
          t.describeNames().replace("*/", "* /"));
    }
    w.line("");
  }

  // ---- operators and run (lib1) -------------------------------------------------------------

  String operators() {
    CodeWriter globals = new CodeWriter();
    CodeWriter body = new CodeWriter();
    Set<String> names = new HashSet<>();
    Map<String, String> emitted = new HashMap<>();
    for (Op op : graph.ops()) {
      body.comment(title(op));
      if (op.type().isView()) {
        emitView(op, body);
        opDone(body, prefix, op);
        continue;
      }
      OpContext ctx = new OpContext(op, globals, body, names, emitted, this::pointer,
          () -> "((void *)(arena + " + model.scratchOffset(op) + "))");
      Kernels.emitter(op.type()).orElseThrow().emit(op, ctx);
      opDone(body, prefix, op);
    }
    for (int j = 0; j < graph.outputs().size(); j++) {
      Tensor t = graph.outputs().get(j);
      if (!(model.storage(t) instanceof Storage.Output)) {
        // An output that is also an input (or a constant, or another output): copy it into place.
        body.comment("output " + j + " " + t.describeNames() + " lives elsewhere: copy it");
        body.linef("memcpy(outputs->%s, %s, %d);", t.cName(), pointer(t), t.byteSize());
      }
    }
    CodeWriter w = new CodeWriter();
    w.comment("Generated by Kiln: the operators of " + fileName(graph.source()) + " and " + prefix + "_run.");
    w.line("#include <stddef.h>").line("#include <stdint.h>").line("#include <string.h>").line("");
    w.line("#include \"" + prefix + ".h\"");
    for (String h : Kernels.sources()) if (h.endsWith(".h")) w.line("#include \"" + h + "\"");
    w.line("");
    for (Tensor t : usedConstants()) {
      w.linef("extern const %s %s[%d];", t.dtype().cType(), constantName(t), Math.max(1, (int) t.elements()));
    }
    w.line("");
    if (model.arenaBytes() > 0) {
      w.comment("The arena: intermediate tensors at offsets fixed by the memory plan (" + model.memoryPlan() + ").");
      w.begin("static union");
      w.line("uint8_t bytes[" + model.arenaBytes() + "];");
      w.line("int64_t align_i64;");
      w.line("double align_f64;");
      w.end(" " + prefix + "_arena;").line("");
    }
    opHook(w, prefix);
    variables(w);
    w.append(globals).line("");
    w.begin("int32_t " + prefix + "_run(struct " + prefix + "_inputs *inputs, struct " + prefix + "_outputs *outputs)");
    w.line(model.arenaBytes() > 0 ? "uint8_t *arena = " + prefix + "_arena.bytes;" : "");
    StringBuilder nullCheck = new StringBuilder("if (inputs == NULL || outputs == NULL");
    for (Tensor t : graph.inputs()) nullCheck.append(" || inputs->").append(t.cName()).append(" == NULL");
    for (Tensor t : graph.outputs()) nullCheck.append(" || outputs->").append(t.cName()).append(" == NULL");
    w.line(nullCheck + ") return -1;");
    w.append(body);
    w.line("return 0;");
    w.end();
    return w.toString();
  }

  /**
   * The per-operator hook of an AoT entry (TFLM's profiler, microTVM's debug executor): two statics,
   * NULL unless {@code <prefix>_set_op_hook} installed a function, which the entry calls after each
   * operator with its index. Firmware may time operators with its own timer through it; the device
   * runtime's run_individual does (kiln_metadata.set_op_hook).
   */
  static void opHook(CodeWriter w, String prefix) {
    w.comment("Per-operator hook: called after each operator with its index while set (" + prefix + "_set_op_hook).");
    w.line("static void (*" + prefix + "_op_done)(void *context, int32_t op_index);");
    w.line("static void *" + prefix + "_op_context;").line("");
    w.begin("void " + prefix + "_set_op_hook(void (*op_done)(void *context, int32_t op_index), void *context)");
    w.line(prefix + "_op_done = op_done;");
    w.line(prefix + "_op_context = context;");
    w.end().line("");
  }

  /** The hook call after {@code op} in an AoT entry. */
  static void opDone(CodeWriter body, String prefix, Op op) {
    body.linef("if (%s_op_done != NULL) %s_op_done(%s_op_context, %d);", prefix, prefix, prefix, op.index());
  }

  /** Declaration of {@code <prefix>_set_op_hook} for headers. */
  static void opHookDeclaration(CodeWriter w, String prefix) {
    w.comment("Profiling: op_done(context, i) runs after operator i (0-based, " + "in model order) while set; NULL turns it off.");
    w.line("void " + prefix + "_set_op_hook(void (*op_done)(void *context, int32_t op_index), void *context);");
  }

  private void emitView(Op op, CodeWriter body) {
    Storage from = model.storage(op.input(0));
    Storage to = model.storage(op.output());
    if (from.equals(to)) {
      body.comment("a view: shares the bytes of " + op.input(0).describeNames());
    } else {
      body.linef("memcpy(%s, %s, %d);", pointer(op.output()), pointer(op.input(0)), op.output().byteSize());
    }
  }

  /** A typed pointer expression for a tensor's data, valid inside the run function. */
  String pointer(Tensor t) {
    String type = t.dtype().cType();
    if (t.isVariable()) return variableName(t); // also a subgraph's tensor of a shared resource variable
    Storage s = model.storage(t);
    // A view's storage belongs to the tensor it aliases: name the field of that tensor.
    if (s instanceof Storage.Input in) return "((" + type + " *)inputs->" + graph.inputs().get(in.index()).cName() + ")";
    if (s instanceof Storage.Output out) return "((" + type + " *)outputs->" + graph.outputs().get(out.index()).cName() + ")";
    if (s instanceof Storage.Constant c) return constantName(graph.tensors().get(c.tensorId()));
    if (s instanceof Storage.Variable v) return variableName(graph.tensors().get(v.tensorId()));
    return "((" + type + " *)(arena + " + ((Storage.Arena) s).offset() + "))";
  }

  private static String dType(Tensor t) { return t.dtype().numpyName(); }

  private static String shapeText(Tensor t) { return dev.kiln.ir.Shape.toString(t.shape()); }

  static String fileName(String source) {
    int slash = Math.max(source.lastIndexOf('/'), source.lastIndexOf('\\'));
    return source.substring(slash + 1);
  }

  static String resource(String path) {
    try (InputStream in = ModelWriter.class.getResourceAsStream(path)) {
      if (in == null) throw new IllegalStateException("Kiln is missing its resource " + path + " (broken install?)");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

}
