package dev.kiln.project;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A generated model library built into a host program with the real gcc, beside a firmware-style
 * {@code main.c} that knows only the documented C interface: raw input files in, raw output files
 * out. The program can also repeat the call to time it.
 */
public final class HostProgram {
  /** Warnings the generated code must pass cleanly. */
  public static final List<String> STRICT = CWarnings.STRICT;

  private final Path executable;
  private final List<String> command;
  private final int inputs;
  private final int outputs;

  private HostProgram(Path executable, List<String> command, int inputs, int outputs) {
    this.executable = executable;
    this.command = List.copyOf(command);
    this.inputs = inputs;
    this.outputs = outputs;
  }

  /**
   * Compiles {@code library} (an exported folder) with a main for {@code prefix} (e.g.
   * {@code tvmgen_default}); {@code inputFields}/{@code outputFields} are the struct field names and
   * {@code inputBytes}/{@code outputBytes} their sizes, in model order.
   */
  public static HostProgram compile(Path library, String prefix, List<String> inputFields, List<Integer> inputBytes,
                                    List<String> outputFields, List<Integer> outputBytes, Path work)
      throws IOException, InterruptedException {
    Files.createDirectories(work);
    Path main = work.resolve("main.c");
    Files.writeString(main, firmwareMain(prefix, inputFields, inputBytes, outputFields, outputBytes));
    Path exe = work.resolve("model");
    Path include = library.resolve("codegen/host/include");
    List<String> flags = new ArrayList<>(List.of("-O2", "-ffunction-sections", "-fdata-sections"));
    flags.addAll(STRICT);
    // the kernel library (kiln_*.c) is the same text for every model: its objects come from the
    // device programs' object cache instead of being compiled again for each model
    java.util.Map<String, String> files = new java.util.TreeMap<>();
    List<String> kernels = new ArrayList<>();
    List<Path> models = new ArrayList<>();
    for (String dir : List.of("codegen/host/include", "codegen/host/src")) {
      try (Stream<Path> s = Files.list(library.resolve(dir))) {
        for (Path f : (Iterable<Path>) s.sorted()::iterator) {
          String name = f.getFileName().toString();
          if (!name.endsWith(".c") && !name.endsWith(".h")) continue;
          files.put(dir + "/" + name, Files.readString(f));
          if (name.endsWith(".c") && name.startsWith("kiln_")) kernels.add(dir + "/" + name);
          else if (name.endsWith(".c")) models.add(f);
        }
      }
    }
    List<String> cmd = new ArrayList<>(List.of(compiler()));
    cmd.addAll(flags);
    cmd.addAll(List.of("-I", include.toString()));
    for (Path o : DeviceProgram.cachedObjects(compiler(), flags, List.of("codegen/host/include"), kernels, files, library)) {
      cmd.add(o.toString());
    }
    for (Path m : models) cmd.add(m.toString());
    cmd.addAll(List.of(main.toString(), "-lm", "-Wl,--gc-sections", "-o", exe.toString()));
    exec(cmd, work, 300);
    return new HostProgram(exe, cmd, inputFields.size(), outputFields.size());
  }

  /** The C compiler: {@code $CC} if set, else gcc. */
  static String compiler() {
    String cc = System.getenv("CC");
    return cc == null || cc.isBlank() ? "gcc" : cc;
  }

  /** The exact compiler command used, for displays and reproduction. */
  public List<String> compileCommand() { return command; }

  public Path executable() { return executable; }

  /** Runs the model once on raw input bytes (model order); returns raw output bytes (model order). */
  public List<byte[]> run(List<byte[]> inputData, Path work) throws IOException, InterruptedException {
    return timedRun(inputData, 1, work).outputs();
  }

  /**
   * Runs the model once per input set, in order, in one process (state kept in the model's
   * variables carries from one call to the next); returns each call's raw outputs.
   */
  public List<List<byte[]>> runSequence(List<List<byte[]>> steps, Path work) throws IOException, InterruptedException {
    Files.createDirectories(work);
    List<String> cmd = new ArrayList<>(List.of(executable.toString(), "s" + steps.size()));
    for (int s = 0; s < steps.size(); s++) {
      List<byte[]> inputData = steps.get(s);
      if (inputData.size() != inputs) throw new IllegalArgumentException("inputs of step " + s + ": " + inputData.size() + " != " + inputs);
      for (int i = 0; i < inputs; i++) {
        Path p = work.resolve("s" + s + "_in" + i + ".bin");
        Files.write(p, inputData.get(i));
        cmd.add(p.toString());
      }
      for (int j = 0; j < outputs; j++) cmd.add(work.resolve("s" + s + "_out" + j + ".bin").toString());
    }
    exec(cmd, work, 600);
    List<List<byte[]>> all = new ArrayList<>();
    for (int s = 0; s < steps.size(); s++) {
      List<byte[]> out = new ArrayList<>();
      for (int j = 0; j < outputs; j++) out.add(Files.readAllBytes(work.resolve("s" + s + "_out" + j + ".bin")));
      all.add(out);
    }
    return all;
  }

  /** Outputs plus the per-call times the program measured around its calls (nanoseconds). */
  public record Result(List<byte[]> outputs, long[] callNanos) {}

  /** Runs the model {@code repeat} times in one process, timing each call with a monotonic clock. */
  public Result timedRun(List<byte[]> inputData, int repeat, Path work) throws IOException, InterruptedException {
    if (inputData.size() != inputs) throw new IllegalArgumentException("inputs: " + inputData.size() + " != " + inputs);
    Files.createDirectories(work);
    List<String> cmd = new ArrayList<>(List.of(executable.toString(), Integer.toString(repeat)));
    for (int i = 0; i < inputs; i++) {
      Path p = work.resolve("in" + i + ".bin");
      Files.write(p, inputData.get(i));
      cmd.add(p.toString());
    }
    for (int j = 0; j < outputs; j++) cmd.add(work.resolve("out" + j + ".bin").toString());
    String text = exec(cmd, work, 600);
    List<byte[]> out = new ArrayList<>();
    for (int j = 0; j < outputs; j++) out.add(Files.readAllBytes(work.resolve("out" + j + ".bin")));
    long[] times = text.lines().filter(l -> l.startsWith("ns ")).mapToLong(l -> Long.parseLong(l.substring(3).trim())).toArray();
    return new Result(out, times);
  }

  static String firmwareMain(String prefix, List<String> inFields, List<Integer> inBytes, List<String> outFields, List<Integer> outBytes) {
    StringBuilder c = new StringBuilder();
    c.append("/* Firmware-style driver written by Kiln: uses only the documented C interface. */\n");
    c.append("#define _POSIX_C_SOURCE 199309L\n");
    c.append("#include <stdio.h>\n#include <stdlib.h>\n#include <stdint.h>\n#include <time.h>\n#include \"").append(prefix).append(".h\"\n\n");
    for (int i = 0; i < inFields.size(); i++) c.append("static double in").append(i).append("[(").append(Math.max(1, inBytes.get(i))).append(" + 7) / 8];\n");
    for (int j = 0; j < outFields.size(); j++) c.append("static double out").append(j).append("[(").append(Math.max(1, outBytes.get(j))).append(" + 7) / 8];\n");
    // argv: REPEAT IN... OUT... (one input set, REPEAT timed calls), or sSTEPS followed by STEPS groups
    // of IN... OUT... (one call per group, in order, in one process: how stateful models are checked)
    int group = inFields.size() + outFields.size();
    c.append("\nint main(int argc, char **argv) {\n");
    c.append("  struct ").append(prefix).append("_inputs inputs;\n  struct ").append(prefix).append("_outputs outputs;\n");
    c.append("  long repeat = 1, steps = 1, step, r;\n");
    c.append("  if (argc < 2) { fprintf(stderr, \"usage: model REPEAT IN... OUT... | model sSTEPS (IN... OUT...)...\\n\"); return 2; }\n");
    c.append("  if (argv[1][0] == 's') steps = strtol(argv[1] + 1, NULL, 10); else repeat = strtol(argv[1], NULL, 10);\n");
    c.append("  if (argc != 2 + steps * ").append(group).append(") { fprintf(stderr, \"usage: model REPEAT IN... OUT... | model sSTEPS (IN... OUT...)...\\n\"); return 2; }\n");
    c.append("  for (step = 0; step < steps; step++) {\n");
    c.append("    char **files = argv + 2 + step * ").append(group).append(";\n");
    c.append("    (void)files;\n");
    for (int i = 0; i < inFields.size(); i++) {
      int n = inBytes.get(i);
      c.append("    { FILE *f = fopen(files[").append(i).append("], \"rb\"); if (!f || fread(in").append(i).append(", 1, ")
          .append(n).append(", f) != ").append(n).append(") { fprintf(stderr, \"cannot read input ").append(i).append("\\n\"); return 3; } fclose(f); }\n");
      c.append("    inputs.").append(inFields.get(i)).append(" = in").append(i).append(";\n");
    }
    for (int j = 0; j < outFields.size(); j++) c.append("    outputs.").append(outFields.get(j)).append(" = out").append(j).append(";\n");
    c.append("    for (r = 0; r < repeat; r++) {\n");
    c.append("      struct timespec t0, t1;\n      int32_t rc;\n");
    c.append("      clock_gettime(CLOCK_MONOTONIC, &t0);\n");
    c.append("      rc = ").append(prefix).append("_run(&inputs, &outputs);\n");
    c.append("      clock_gettime(CLOCK_MONOTONIC, &t1);\n");
    c.append("      if (rc != 0) { fprintf(stderr, \"").append(prefix).append("_run returned %d\\n\", (int)rc); return 4; }\n");
    c.append("      if (repeat > 1) printf(\"ns %lld\\n\", (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));\n");
    c.append("    }\n");
    for (int j = 0; j < outFields.size(); j++) {
      c.append("    { FILE *f = fopen(files[").append(inFields.size() + j).append("], \"wb\"); if (!f) return 5; fwrite(out").append(j)
          .append(", 1, ").append(outBytes.get(j)).append(", f); fclose(f); }\n");
    }
    c.append("  }\n");
    c.append("  return 0;\n}\n");
    return c.toString();
  }

  static String exec(List<String> cmd, Path work, int timeoutSeconds) throws IOException, InterruptedException {
    Path log = Files.createTempFile(work, "exec", ".log");
    Process proc;
    try {
      proc = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    } catch (IOException e) {
      String pkg = cmd.get(0).startsWith("arm-none-eabi") ? "gcc-arm-none-eabi libnewlib-arm-none-eabi"
          : cmd.get(0).startsWith("riscv64-unknown-elf") ? "gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf" : "gcc";
      throw new IOException("cannot start " + cmd.get(0) + " (" + e.getMessage() + "); is it installed? (./install, or "
          + "apt-get install --no-install-recommends " + pkg + ")", e);
    }
    if (!proc.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      proc.destroyForcibly();
      throw new IOException("timed out after " + timeoutSeconds + " s: " + String.join(" ", cmd.subList(0, Math.min(4, cmd.size()))));
    }
    String text = Files.readString(log, StandardCharsets.UTF_8);
    Files.deleteIfExists(log);
    if (proc.exitValue() != 0) {
      String head = String.join(" ", cmd.subList(0, Math.min(cmd.size(), 6)));
      throw new IOException("exit status " + proc.exitValue() + " from " + head + (cmd.size() > 6 ? " ..." : "") + "\n" + text.strip());
    }
    return text;
  }
}
