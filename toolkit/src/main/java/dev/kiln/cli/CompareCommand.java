package dev.kiln.cli;

import dev.kiln.api.Comparison;
import dev.kiln.api.Device;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnException;
import dev.kiln.api.Model;
import dev.kiln.api.Tolerance;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "compare", mixinStandardHelpOptions = true,
    description = {"Runs every MODEL on every --executor and --device with the sample<s>_in<i>.npy",
        "beside it, checks the outputs against the sample<s>_out<j>.npy (or against",
        "another run, --against), and prints one row per model x executor x device:",
        "match, max |diff| (real units and quantization steps), top-1 agreement, device",
        "latency (median, min, max), instructions (QEMU boards), arena, flash split and",
        "compile time. -o writes the same as .html, .md, .csv or .json.",
        "Exit status 1 when a row failed or differs from its reference."})
final class CompareCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "MODEL", arity = "1..*", description = "Model files (.tflite, .onnx), each with its samples beside it.")
  List<Path> models = new ArrayList<>();

  @Mixin InputShapeOption inputShapes = new InputShapeOption();

  @Option(names = "--executor", paramLabel = "EXECUTOR", description = "graph, aot-c-unpacked, aot-c, aot-packed or aot-packed-unpacked; "
      + "repeat for each (default: graph and aot-c-unpacked).")
  List<String> executors = new ArrayList<>();

  @Option(names = "--device", paramLabel = "DEVICE", description = "host or qemu:BOARD[,tcp] (mps2-an385, mps2-an386, mps2-an505, microbit, "
      + "riscv32-virt); repeat for each (default: host).")
  List<String> devices = new ArrayList<>();

  @Option(names = "--runs", defaultValue = "10", description = "Timed rounds on the device per row, 0 for none (default: ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--against", paramLabel = "EXECUTOR@DEVICE", description = "Check every row against this run (e.g. graph@host) instead of "
      + "the sample outputs; it must be one of the rows.")
  String against;

  @Option(names = "--tolerance", defaultValue = "project", paramLabel = "RULE", description = "project (integers exact, float32 within "
      + "1e-5*(|ref|+max|ref|)), exact, abs:BOUND (float32 |a-b| <= BOUND) or steps:N (integers within N steps) (default: ${DEFAULT-VALUE}).")
  String tolerance;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the comparison to FILE (.html, .md, .csv or .json); repeatable.")
  List<Path> outputs = new ArrayList<>();

  @Override public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    for (Path o : outputs) comparisonFormatOf(o); // refuse a bad name before the work, not after
    List<Executor> exs = executors.isEmpty() ? List.of(Executor.graph(), Executor.aot().interfaceApi("c").unpackedApi(true))
        : executors.stream().map(Executor::parse).toList();
    List<Device> devs = devices.isEmpty() ? List.of(Device.host()) : devices.stream().map(RunCommand::parseDevice).toList();
    Model[] loaded = new Model[models.size()];
    for (int i = 0; i < loaded.length; i++) loaded[i] = Kiln.load(models.get(i), inputShapes.options());
    Comparison.Builder b = Kiln.compare(loaded).executors(exs.toArray(Executor[]::new)).on(devs.toArray(Device[]::new)).runs(runs)
        .tolerance(tolerance(tolerance));
    if (against != null) {
      int at = against.indexOf('@');
      if (at < 0) throw new KilnException("--against takes EXECUTOR@DEVICE, e.g. graph@host, not '" + against + "'");
      b = b.against(Executor.parse(against.substring(0, at)), RunCommand.parseDevice(against.substring(at + 1)));
    }
    Comparison c = b.run();
    out.print(c);
    for (Path o : outputs) out.println("wrote " + c.save(o));
    out.flush();
    if (!c.allMatch()) {
      PrintWriter err = spec.commandLine().getErr();
      err.println("kiln: compare: " + c.mismatches().size() + " of " + c.rows().size() + " rows failed or differ from their reference");
      err.flush();
      return 1;
    }
    return 0;
  }

  private static void comparisonFormatOf(Path file) {
    String n = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    if (!(n.endsWith(".html") || n.endsWith(".htm") || n.endsWith(".md") || n.endsWith(".markdown") || n.endsWith(".csv") || n.endsWith(".json"))) {
      throw new KilnException("-o " + file + ": name the file .html, .md, .csv or .json");
    }
  }

  static Tolerance tolerance(String rule) {
    try {
      if (rule.equals("project")) return Tolerance.project();
      if (rule.equals("exact")) return Tolerance.exact();
      if (rule.startsWith("abs:")) return Tolerance.absolute(Double.parseDouble(rule.substring(4)));
      if (rule.startsWith("steps:")) return Tolerance.steps(Long.parseLong(rule.substring(6)));
    } catch (NumberFormatException e) {
      throw new KilnException("--tolerance " + rule + ": the number after the colon is not a number");
    }
    throw new KilnException("--tolerance takes project, exact, abs:BOUND or steps:N, not '" + rule + "'");
  }
}
