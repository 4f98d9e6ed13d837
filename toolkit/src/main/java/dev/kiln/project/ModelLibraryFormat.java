package dev.kiln.project;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Model Library Format archive (MLF version 7, as TVM v0.18's {@code export_model_library_format}
 * writes it; facts section 6): an uncompressed tar of
 * <pre>
 *   metadata.json                       version 7, modules.&lt;mod&gt;.{executors, export_datetime, ...}
 *   codegen/host/include/               every header the sources include
 *   codegen/host/src/&lt;mod&gt;_lib*.c       the model library (+ Kiln's kernel library)
 *   executor-config/graph/&lt;mod&gt;.graph   the graph JSON (graph builds)
 *   parameters/&lt;mod&gt;.params            a params blob with no entries (constants are linked)
 *   src/&lt;mod&gt;.relay                    the operator list (Kiln has no Relay; TVM writes Relay text)
 *   runtime/                            Kiln's device runtime, in the place of TVM's standalone CRT
 * </pre>
 * The sources in {@code codegen/host/src} compile with {@code codegen/host/include} alone and need
 * at link time only TVM's C runtime API ({@code TVMAPISetLastError}; the system library is
 * published through {@code TVMSystemLibEntryPoint}) and libc/libm, so microTVM's project templates
 * take them; {@code runtime/} has what Kiln's own runtime adds.
 */
public final class ModelLibraryFormat {
  /** The MLF version TVM v0.9 to v0.18 write. */
  public static final int VERSION = 7;
  /** Kiln's runtime folders that go under {@code runtime/}. */
  static final List<String> RUNTIME_FOLDERS = List.of("crt", "executors", "platform", "platform/host");

  private ModelLibraryFormat() {}

  /**
   * Kiln's device runtime as it goes under {@code runtime/}: {@code crt/} (framing, session, RPC
   * server, TVM API), {@code executors/} (graph and AoT executors), {@code platform/host/} (the
   * reference POSIX platform) and the port guide {@code platform/README.md}, plus a README saying
   * how to build a device program from the archive.
   */
  public static Map<String, byte[]> runtimeFiles() throws IOException {
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (String dir : RUNTIME_FOLDERS) {
      for (String name : DeviceProgram.listResources(DeviceProgram.RUNTIME + dir + "/")) {
        if (name.equals("kiln_syslib_empty.c")) continue; // the system library of a program without a model
        files.put("runtime/" + dir + "/" + name, DeviceProgram.resource(DeviceProgram.RUNTIME + dir + "/" + name).getBytes(StandardCharsets.UTF_8));
      }
    }
    files.put("runtime/README.md", RUNTIME_README.getBytes(StandardCharsets.UTF_8));
    return files;
  }

  private static final String RUNTIME_README = """
      # Kiln's device runtime (in the place of TVM's standalone CRT)

      `codegen/host/src/*.c` is the model library. It needs only `codegen/host/include` to compile
      and, to link, TVM's C runtime API: `TVMAPISetLastError`; it publishes itself through
      `TVMSystemLibEntryPoint()` (microTVM's CRT) and `kiln_system_lib()` (this runtime), the same
      functions under the same names in the same order.

      With microTVM's CRT: compile `codegen/host/src/*.c` into your project as usual; this folder is
      not needed.

      With Kiln's runtime, the POSIX device program that the Kiln host (`Device.host()`, `kiln run`)
      drives over stdin/stdout:

          gcc -std=c99 -O2 -Icodegen/host/include -Iruntime/crt -Iruntime/executors \\
              codegen/host/src/*.c runtime/crt/*.c runtime/executors/*.c runtime/platform/host/main.c \\
              -lm -o kiln-device

      Pool sizes are in `runtime/crt/kiln_config.h` (`-DKILN_MAX_PACKET_BYTES=...`,
      `-DKILN_ARENA_BYTES=...`); a microcontroller port implements `runtime/crt/kiln_platform.h`
      (see `runtime/platform/README.md`), or use `kiln project` for a complete firmware folder.
      """;

  /**
   * {@code node} as TVM writes metadata.json, Python's {@code json.dump(sort_keys=True, indent=2)}:
   * keys sorted, two-space indent, one array element per line, {@code ": "} and {@code ","}
   * separators, non-ASCII escaped as \\uXXXX, floats as Python's repr. Ends without a newline.
   */
  public static String pythonJson(com.fasterxml.jackson.databind.JsonNode node) {
    StringBuilder sb = new StringBuilder();
    pythonJson(node, 0, sb);
    return sb.toString();
  }

  private static void pythonJson(com.fasterxml.jackson.databind.JsonNode node, int depth, StringBuilder sb) {
    String pad = "  ".repeat(depth + 1);
    if (node.isObject()) {
      java.util.TreeMap<String, com.fasterxml.jackson.databind.JsonNode> fields = new java.util.TreeMap<>();
      node.fields().forEachRemaining(e -> fields.put(e.getKey(), e.getValue()));
      if (fields.isEmpty()) {
        sb.append("{}");
        return;
      }
      sb.append("{\n");
      int i = 0;
      for (Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e : fields.entrySet()) {
        sb.append(pad);
        string(e.getKey(), sb);
        sb.append(": ");
        pythonJson(e.getValue(), depth + 1, sb);
        sb.append(++i < fields.size() ? ",\n" : "\n");
      }
      sb.append("  ".repeat(depth)).append('}');
    } else if (node.isArray()) {
      if (node.isEmpty()) {
        sb.append("[]");
        return;
      }
      sb.append("[\n");
      for (int i = 0; i < node.size(); i++) {
        sb.append(pad);
        pythonJson(node.get(i), depth + 1, sb);
        sb.append(i + 1 < node.size() ? ",\n" : "\n");
      }
      sb.append("  ".repeat(depth)).append(']');
    } else if (node.isTextual()) {
      string(node.textValue(), sb);
    } else if (node.isFloatingPointNumber()) {
      sb.append(pythonFloat(node.isFloat() ? Float.toString(node.floatValue()) : Double.toString(node.doubleValue())));
    } else if (node.isNull()) {
      sb.append("null");
    } else {
      sb.append(node.asText()); // integers and booleans print the same in both
    }
  }

  /** Python's repr of a float given Java's shortest text of it: fixed for exponents -4..15, else d.ddde-XX. */
  static String pythonFloat(String java) {
    if (java.equals("NaN")) return "NaN";
    if (java.contains("Infinity")) return java.startsWith("-") ? "-Infinity" : "Infinity";
    java.math.BigDecimal v = new java.math.BigDecimal(java);
    if (v.signum() == 0) return java.startsWith("-") ? "-0.0" : "0.0";
    v = v.stripTrailingZeros();
    String digits = v.unscaledValue().abs().toString();
    int exponent = digits.length() - v.scale() - 1;
    String sign = v.signum() < 0 ? "-" : "";
    if (exponent >= -4 && exponent < 16) {
      String plain = v.abs().toPlainString();
      return sign + (plain.contains(".") ? plain : plain + ".0");
    }
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
  }

  private static void string(String s, StringBuilder sb) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          if (c < 0x20 || c > 0x7e) sb.append(String.format("\\u%04x", (int) c));
          else sb.append(c);
        }
      }
    }
    sb.append('"');
  }

  /**
   * Writes {@code files} (paths relative to the archive root) as the archive {@code tarFile}, all or
   * nothing: a sibling temporary file replaces the destination only when complete.
   */
  public static void write(Path tarFile, Map<String, byte[]> files, long mtimeSeconds) throws IOException {
    Path dest = tarFile.toAbsolutePath().normalize();
    Path parent = dest.getParent();
    if (parent == null) throw new IOException("cannot write an archive at the file-system root");
    Files.createDirectories(parent);
    if (Files.isDirectory(dest)) throw new IOException(dest + " is a folder; pass a file name such as model.tar");
    byte[] tar = TarArchive.of(files, mtimeSeconds);
    // not Files.createTempFile: its 0600 would stay on the archive; a plain new file gets the umask's mode
    Path staging = parent.resolve("." + dest.getFileName() + "." + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".kiln-tmp");
    try {
      Files.write(staging, tar, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
      try {
        Files.move(staging, dest, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(staging, dest, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(staging);
    }
  }
}
