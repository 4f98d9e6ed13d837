package dev.kiln.api;

import java.util.Locale;
import java.util.Objects;

/**
 * How a built model is driven: {@code Executor.graph()} or
 * {@code Executor.aot().interfaceApi("c").unpackedApi(true)}. Immutable; each option returns a copy,
 * so a notebook switches executor by changing this one argument.
 */
public final class Executor {
  public enum Kind { GRAPH, AOT }

  private final Kind kind;
  private final String interfaceApi;
  private final boolean unpackedApi;
  private final String moduleName;

  private Executor(Kind kind, String interfaceApi, boolean unpackedApi, String moduleName) {
    this.kind = kind;
    this.interfaceApi = interfaceApi;
    this.unpackedApi = unpackedApi;
    this.moduleName = moduleName;
  }

  public static Executor graph() { return new Executor(Kind.GRAPH, "packed", false, "default"); }

  public static Executor aot() { return new Executor(Kind.AOT, "packed", false, "default"); }

  /** "c" (a plain C function with input/output structs) or "packed" (TVM packed calling convention). */
  public Executor interfaceApi(String api) {
    String a = Args.notNull(api, "api", "interfaceApi(api)", "\"c\" or \"packed\"").toLowerCase(Locale.ROOT);
    if (!a.equals("c") && !a.equals("packed")) {
      throw new KilnException("interface-api must be \"c\" or \"packed\", not \"" + api + "\"");
    }
    return new Executor(kind, a, unpackedApi, moduleName);
  }

  /** True: operators receive raw data pointers; false: TVM packed arguments. */
  public Executor unpackedApi(boolean unpacked) { return new Executor(kind, interfaceApi, unpacked, moduleName); }

  /** The module name in generated symbols: {@code tvmgen_<name>_run}. */
  public Executor moduleName(String name) {
    Args.notNull(name, "name", "moduleName(name)", "a C identifier such as \"default\" (symbols become tvmgen_<name>_run)");
    if (!dev.kiln.ir.CNames.isIdentifierPart(name)) {
      throw new KilnException("module name must be a C identifier (letters, digits, _; not starting with a digit): \"" + name + "\"");
    }
    return new Executor(kind, interfaceApi, unpackedApi, name);
  }

  /**
   * The executor named as {@link #label()} writes it: {@code graph}, {@code aot} (= {@code aot-packed}),
   * {@code aot-c}, {@code aot-c-unpacked}, {@code aot-packed-unpacked}.
   */
  public static Executor parse(String label) {
    Args.notNull(label, "label", "Executor.parse(label)", "graph, aot, aot-c, aot-c-unpacked, aot-packed or aot-packed-unpacked");
    String l = label.trim().toLowerCase(Locale.ROOT);
    return switch (l) {
      case "graph" -> graph();
      case "aot", "aot-packed" -> aot();
      case "aot-c" -> aot().interfaceApi("c");
      case "aot-c-unpacked" -> aot().interfaceApi("c").unpackedApi(true);
      case "aot-unpacked", "aot-packed-unpacked" -> aot().unpackedApi(true);
      default -> throw new KilnException("no executor named '" + label + "'; choose graph, aot-c-unpacked, aot-c, aot-packed "
          + "or aot-packed-unpacked (aot alone is aot-packed)");
    };
  }

  /** A short name for tables and files: {@code graph}, {@code aot-packed}, {@code aot-c-unpacked}...; {@link #parse} reads it back. */
  public String label() {
    if (kind == Kind.GRAPH) return "graph" + (moduleName.equals("default") ? "" : "@" + moduleName);
    return "aot-" + interfaceApi + (unpackedApi ? "-unpacked" : "") + (moduleName.equals("default") ? "" : "@" + moduleName);
  }

  public Kind kind() { return kind; }

  public String interfaceApi() { return interfaceApi; }

  public boolean unpackedApi() { return unpackedApi; }

  public String moduleName() { return moduleName; }

  @Override public boolean equals(Object o) {
    return o instanceof Executor e && e.kind == kind && e.interfaceApi.equals(interfaceApi) && e.unpackedApi == unpackedApi
        && e.moduleName.equals(moduleName);
  }

  @Override public int hashCode() { return Objects.hash(kind, interfaceApi, unpackedApi, moduleName); }

  @Override public String toString() {
    if (kind == Kind.GRAPH) return "graph";
    return "aot(interface-api=" + interfaceApi + ", unpacked-api=" + unpackedApi + (moduleName.equals("default") ? "" : ", module=" + moduleName) + ")";
  }
}
