package dev.kiln.cli;

import dev.kiln.api.Build;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.Executor;
import dev.kiln.api.ModelExecutor;
import dev.kiln.api.HostModel;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnException;
import dev.kiln.api.Model;
import dev.kiln.api.Tensor;
import dev.kiln.api.TensorInfo;
import dev.kiln.api.Tolerance;
import dev.kiln.project.FolderWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
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

@Command(name = "verify", mixinStandardHelpOptions = true,
    description = {"Runs a model on sample<s>_in<i>.npy and compares with sample<s>_out<j>.npy (int8 bit-exact; float32",
        "within 1e-5*(|ref|+max|ref|)) three ways: the AoT C interface built with gcc into a firmware-style host program,",
        "and over microTVM RPC on the device (--device: the host process, or a QEMU board) with the graph executor and the",
        "AoT executor, setting each input by",
        "its model name. Exit status 0 only if every output of every way matches."})
final class VerifyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "A .tflite or .onnx file.")
  Path model;

  @Mixin InputShapeOption inputShapes = new InputShapeOption();

  @Option(names = "--samples", paramLabel = "DIR", description = "Folder with sample<s>_in<i>.npy and sample<s>_out<j>.npy (default: the model's folder).")
  Path samples;

  @Option(names = "--keep", paramLabel = "DIR", description = "Keep the generated library and host program in DIR.")
  Path keep;

  @Option(names = "--no-rpc", description = "Only the standalone C interface; skip the executors over RPC.")
  boolean noRpc;

  @Option(names = "--device", defaultValue = "host", description = "Where the executors run over RPC: host, qemu:BOARD[,tcp] "
      + "(e.g. qemu:mps2-an386), serial:PATH or tcp:HOST:PORT (default: ${DEFAULT-VALUE}).")
  String device;

  @Override public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    Model m = Kiln.load(model, inputShapes.options());
    Path dir = samples != null ? samples : model.toAbsolutePath().getParent();
    Build build = m.build(CompileCommand.standaloneAot("default"));
    out.print(m.summary());
    List<List<Tensor>> inputs = new ArrayList<>();
    List<List<Path>> refs = new ArrayList<>();
    for (int s = 0; Files.exists(dir.resolve("sample" + s + "_in0.npy")); s++) {
      List<Tensor> in = new ArrayList<>();
      for (int i = 0; i < m.inputs().size(); i++) in.add(Tensor.load(dir.resolve("sample" + s + "_in" + i + ".npy")));
      inputs.add(in);
      List<Path> r = new ArrayList<>();
      for (int j = 0; j < m.outputs().size(); j++) r.add(dir.resolve("sample" + s + "_out" + j + ".npy"));
      refs.add(r);
    }
    if (inputs.isEmpty()) throw new KilnException("no sample0_in0.npy in " + dir + "; give --samples DIR");
    int failures = 0;
    Path work = keep != null ? keep : Files.createTempDirectory("kiln-verify-");
    try {
      HostModel host = build.compileForHost(work);
      out.println("\n== AoT C interface, firmware-style main: " + String.join(" ", host.compileCommand().subList(0, 3)) + " ... ("
          + build.entryPoint() + ")");
      // every sample in one process, in order, as on the executors: a stateful model carries its variables over
      List<List<Tensor>> results = host.runSequence(inputs);
      for (int s = 0; s < inputs.size(); s++) failures += compare(out, m, s, results.get(s), refs.get(s));
    } finally {
      if (keep == null) FolderWriter.deleteTree(work);
    }
    if (!noRpc) {
      for (Executor ex : List.of(Executor.graph(), Executor.aot())) {
        try (DeviceSession dev = m.build(ex).flash(RunCommand.parseDevice(device))) {
          out.println("\n== " + ex + " executor over RPC on " + dev.transport() + ", inputs set by model name");
          ModelExecutor exec = dev.executor();
          for (int s = 0; s < inputs.size(); s++) {
            for (TensorInfo in : m.inputs()) exec.setInput(in.name(), inputs.get(s).get(in.index()));
            exec.run();
            failures += compare(out, m, s, exec.getOutputs(), refs.get(s));
          }
        }
      }
    }
    out.printf("%n%d sample(s), %s%n", inputs.size(), failures == 0 ? "all outputs match the reference" : failures + " output(s) differ");
    return failures == 0 ? 0 : 1;
  }

  private static int compare(PrintWriter out, Model m, int sample, List<Tensor> got, List<Path> refs) {
    int failures = 0;
    for (int j = 0; j < got.size(); j++) {
      TensorInfo o = m.outputs().get(j);
      out.printf("sample %d output %d %s%n  kiln:      %s%n", sample, j, o.names(), Values.preview(got.get(j)));
      if (!Files.exists(refs.get(j))) {
        out.println("  reference: (none)");
        continue;
      }
      Tensor ref = Tensor.load(refs.get(j));
      String why = Tolerance.mismatch(got.get(j), ref);
      out.printf("  reference: %s%n  %s%n", Values.preview(ref), why == null ? "MATCH" : "MISMATCH: " + why);
      if (why != null) failures++;
    }
    return failures;
  }
}
