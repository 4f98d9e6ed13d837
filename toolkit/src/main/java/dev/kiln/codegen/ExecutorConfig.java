package dev.kiln.codegen;

import dev.kiln.ir.CNames;
import java.util.Locale;

/**
 * What the device code is generated for: the graph executor, or the AoT executor with microTVM's
 * two options. interface-api "c" keeps the firmware function {@code int32_t tvmgen_<mod>_run(struct
 * inputs *, struct outputs *)}; "packed" makes {@code tvmgen_<mod>_run} a packed function.
 * unpacked-api true calls operators inline with raw pointers; false gives every operator its own
 * packed function, called with DLTensors (TVM's kCPacked). All four AoT combinations are generated:
 * TVM refuses interface-api=c with unpacked-api=false only because its C entry passes raw pointers to
 * a packed main; Kiln's C entry wraps the pointers in DLTensors first, so the combination works.
 * Immutable.
 */
public record ExecutorConfig(Kind kind, String interfaceApi, boolean unpackedApi, String moduleName) {
  public enum Kind { GRAPH, AOT }

  public ExecutorConfig {
    if (kind == null) throw new IllegalArgumentException("kind == null");
    interfaceApi = interfaceApi == null ? "packed" : interfaceApi.toLowerCase(Locale.ROOT);
    if (!interfaceApi.equals("c") && !interfaceApi.equals("packed")) {
      throw new IllegalArgumentException("interface-api must be \"c\" or \"packed\", not \"" + interfaceApi + "\"");
    }
    if (moduleName == null || !CNames.isIdentifierPart(moduleName)) {
      throw new IllegalArgumentException("module name must be a C identifier: '" + moduleName + "'");
    }
    if (kind == Kind.GRAPH && (!interfaceApi.equals("packed") || unpackedApi)) {
      throw new IllegalArgumentException("the graph executor calls packed operator functions: interface-api must be "
          + "\"packed\" and unpacked-api false, not " + interfaceApi + "/" + unpackedApi);
    }
  }

  public static ExecutorConfig graph(String moduleName) { return new ExecutorConfig(Kind.GRAPH, "packed", false, moduleName); }

  public static ExecutorConfig aot(String interfaceApi, boolean unpackedApi, String moduleName) {
    return new ExecutorConfig(Kind.AOT, interfaceApi, unpackedApi, moduleName);
  }

  public boolean isGraph() { return kind == Kind.GRAPH; }

  /** AoT with the firmware C entry. */
  public boolean cInterface() { return kind == Kind.AOT && interfaceApi.equals("c"); }

  /** Operators are packed functions (the graph executor, or AoT with unpacked-api false). */
  public boolean packedOperators() { return kind == Kind.GRAPH || !unpackedApi; }

  /** The symbol prefix, e.g. {@code tvmgen_default}. */
  public String prefix() { return "tvmgen_" + moduleName.toLowerCase(Locale.ROOT); }

  @Override public String toString() {
    return kind == Kind.GRAPH ? "graph" : "aot(interface-api=" + interfaceApi + ", unpacked-api=" + unpackedApi + ")";
  }
}
