package dev.kiln.codegen;

import dev.kiln.ir.CNames;
import dev.kiln.ir.Op;
import dev.kiln.ir.Tensor;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The {@link KernelContext} of one op inside one generated C file: file-scope tables go to
 * {@code globals} under names unique in the file ({@code op<index>_<hint>}), calls go to
 * {@code body}. Where tensor data and scratch memory live is the writer's choice: a C-interface
 * struct field, an argument of a packed function, a constant array or the arena.
 */
final class OpContext implements KernelContext {
  private final Op op;
  private final CodeWriter globals;
  private final CodeWriter body;
  private final Set<String> names;
  private final Map<String, String> emitted;
  private final Function<Tensor, String> pointer;
  private final Supplier<String> scratch;

  OpContext(Op op, CodeWriter globals, CodeWriter body, Set<String> names, Map<String, String> emitted,
            Function<Tensor, String> pointer, Supplier<String> scratch) {
    this.op = op;
    this.globals = globals;
    this.body = body;
    this.names = names;
    this.emitted = emitted;
    this.pointer = pointer;
    this.scratch = scratch;
  }

  @Override public String data(Tensor t) { return pointer.apply(t); }

  @Override public String tableI32(String hint, int[] values) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < values.length; i++) sb.append(i == 0 ? "" : ", ").append(CLiterals.i32(values[i]));
    return table("int32_t", hint, values.length, sb);
  }

  @Override public String tableI8(String hint, byte[] values) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < values.length; i++) sb.append(i == 0 ? "" : ", ").append(values[i]);
    return table("int8_t", hint, values.length, sb);
  }

  @Override public String tableF32(String hint, float[] values) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < values.length; i++) sb.append(i == 0 ? "" : ", ").append(CLiterals.f32(values[i]));
    return table("float", hint, values.length, sb);
  }

  private String table(String type, String hint, int n, StringBuilder values) {
    String init = n == 0 ? "0" : wrap(values.toString());
    return once(type + "[" + Math.max(1, n) + "] = {" + init + "}", hint,
        name -> globals.linef("static const %s %s[%d] = {%s};", type, name, Math.max(1, n), init));
  }

  @Override public String constant(String structType, String hint, String initializer) {
    String init = initializer.startsWith("{") ? initializer : "{" + initializer + "}";
    return once(structType + " = " + init, hint, name -> globals.linef("static const %s %s = %s;", structType, name, init));
  }

  /**
   * The name of the file's constant with this type and value: an earlier op's when one already has it
   * (ops of the same shape and scales share requantization tables and parameter structs, and a
   * struct whose tables were shared is itself equal), else a new one that {@code write} declares.
   */
  private String once(String typeAndValue, String hint, java.util.function.Consumer<String> write) {
    String known = emitted.get(typeAndValue);
    if (known != null) return known;
    String name = newName(hint);
    write.accept(name);
    emitted.put(typeAndValue, name);
    return name;
  }

  @Override public String constantArray(String hint, Tensor constant) {
    String name = newName(hint);
    ConstantArrays.write(globals, "static const " + constant.dtype().cType() + " " + name, constant.dtype(), constant.data());
    return name;
  }

  @Override public String newName(String hint) {
    String base = "op" + op.index() + "_" + CNames.sanitize(hint);
    String name = base;
    for (int k = 1; !names.add(name); k++) name = base + "_" + k;
    return name;
  }

  @Override public String scratch() { return scratch.get(); }

  @Override public CodeWriter body() { return body; }

  /** Breaks a long initializer into lines of about 100 characters. */
  static String wrap(String csv) {
    if (csv.length() <= 100) return csv;
    StringBuilder out = new StringBuilder("\n");
    int lineStart = 0;
    for (String part : csv.split(", ")) {
      if (out.length() - lineStart > 100) {
        out.append('\n');
        lineStart = out.length();
      }
      out.append(out.length() == lineStart ? "  " : " ").append(part).append(',');
    }
    return out.substring(0, out.length() - 1) + "\n";
  }
}
