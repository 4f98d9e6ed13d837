package dev.kiln.rpc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds the host-platform device program from the runtime resources with gcc: the runtime of
 * {@code dev/kiln/runtime/crt}, {@code platform/host/main.c} and one system-library source.
 * For the tests and {@link RpcBench}; the {@code project} package owns real device builds.
 */
final class HostDeviceBuild {
  static final String CRT = "/dev/kiln/runtime/crt/";
  static final String HOST_MAIN = "/dev/kiln/runtime/platform/host/main.c";
  static final List<String> CRT_HEADERS = List.of("kiln_config.h", "kiln_errors.h", "kiln_types.h", "kiln_platform.h",
      "kiln_framing.h", "kiln_runtime.h", "kiln_internal.h", "kiln_syslib.h");
  static final List<String> CRT_SOURCES = List.of("kiln_framing.c", "kiln_memory.c", "kiln_rpc_server.c",
      "kiln_runtime.c");
  /** The executors main.c registers (runtime/executors; dev.kiln.project.DeviceProgram builds with them too). */
  static final String EXECUTORS = "/dev/kiln/runtime/executors/";
  static final List<String> EXECUTOR_HEADERS = List.of("kiln_executors.h", "kiln_executor_util.h", "kiln_graph_json.h",
      "kiln_metadata.h", "kiln_generated.h");
  static final List<String> EXECUTOR_SOURCES = List.of("kiln_executors.c", "kiln_executor_util.c", "kiln_graph_json.c",
      "kiln_graph_executor.c", "kiln_aot_executor.c");
  static final List<String> WARNINGS = dev.kiln.project.DeviceProgram.FLAGS;

  private HostDeviceBuild() {}

  /**
   * Compiles into {@code dir}/kiln-device and returns its path.
   *
   * @param syslibResource classpath path of the system-library C file, or null for none
   * @param defines extra -D flags, e.g. "KILN_MAX_PACKET_BYTES=65536"
   */
  static Path build(Path dir, String syslibResource, List<String> defines) throws IOException {
    Path crt = dir.resolve("crt");
    Files.createDirectories(crt);
    List<String> cmd = new ArrayList<>(List.of("gcc"));
    cmd.addAll(WARNINGS);
    for (String d : defines) cmd.add("-D" + d);
    cmd.add("-I" + crt);
    for (String f : CRT_HEADERS) copy(CRT + f, crt.resolve(f));
    for (String f : CRT_SOURCES) cmd.add(copy(CRT + f, crt.resolve(f)).toString());
    Path executors = dir.resolve("executors");
    Files.createDirectories(executors);
    cmd.add("-I" + executors);
    for (String f : EXECUTOR_HEADERS) copy(EXECUTORS + f, executors.resolve(f));
    for (String f : EXECUTOR_SOURCES) cmd.add(copy(EXECUTORS + f, executors.resolve(f)).toString());
    cmd.add(syslibResource == null ? copy(CRT + "kiln_syslib_empty.c", crt.resolve("kiln_syslib_empty.c")).toString()
        : copy(syslibResource, dir.resolve(Path.of(syslibResource).getFileName().toString())).toString());
    cmd.add(copy(HOST_MAIN, dir.resolve("main.c")).toString());
    Path out = dir.resolve("kiln-device");
    cmd.add("-o");
    cmd.add(out.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String log;
    try {
      log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("gcc did not finish in 120 s: " + String.join(" ", cmd));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while compiling the device program", e);
    }
    if (p.exitValue() != 0) {
      throw new IOException("gcc failed (exit " + p.exitValue() + "): " + String.join(" ", cmd) + "\n" + log);
    }
    return out;
  }

  private static Path copy(String resource, Path to) throws IOException {
    try (InputStream in = HostDeviceBuild.class.getResourceAsStream(resource)) {
      if (in == null) throw new IOException("resource " + resource + " is missing from the classpath");
      Files.write(to, in.readAllBytes());
    }
    return to;
  }
}
