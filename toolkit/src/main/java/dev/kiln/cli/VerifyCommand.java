package dev.kiln.cli;

import dev.kiln.api.Build;
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
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "verify", mixinStandardHelpOptions = true,
    description = {"Compiles a model for the AoT C interface, builds it with gcc into a host program, runs it on",
        "sample<s>_in<i>.npy and compares with sample<s>_out<j>.npy (int8 bit-exact; float32 within",
        "1e-5*(|ref|+max|ref|)). Exit status 0 only if every output matches."})
final class VerifyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "A .tflite file.")
  Path model;

  @Option(names = "--samples", paramLabel = "DIR", description = "Folder with sample<s>_in<i>.npy and sample<s>_out<j>.npy (default: the model's folder).")
  Path samples;

  @Option(names = "--keep", paramLabel = "DIR", description = "Keep the generated library and host program in DIR.")
  Path keep;

  @Override public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    Model m = Kiln.load(model);
    Path dir = samples != null ? samples : model.toAbsolutePath().getParent();
    Build build = m.build(CompileCommand.standaloneAot("default"));
    out.print(m.summary());
    Path work = keep != null ? keep : Files.createTempDirectory("kiln-verify-");
    try {
      HostModel host = build.compileForHost(work);
      out.println("built: " + String.join(" ", host.compileCommand().subList(0, 3)) + " ... (" + build.entryPoint() + ")");
      int failures = 0;
      int s = 0;
      for (; Files.exists(dir.resolve("sample" + s + "_in0.npy")); s++) {
        List<Tensor> inputs = new ArrayList<>();
        for (int i = 0; i < m.inputs().size(); i++) inputs.add(Tensor.load(dir.resolve("sample" + s + "_in" + i + ".npy")));
        List<Tensor> got = host.run(inputs);
        for (int j = 0; j < got.size(); j++) {
          TensorInfo o = m.outputs().get(j);
          Path refFile = dir.resolve("sample" + s + "_out" + j + ".npy");
          out.printf("sample %d output %d %s%n  kiln:      %s%n", s, j, o.names(), Values.preview(got.get(j)));
          if (!Files.exists(refFile)) {
            out.println("  reference: (none)");
            continue;
          }
          Tensor ref = Tensor.load(refFile);
          String why = Tolerance.mismatch(got.get(j), ref);
          out.printf("  reference: %s%n  %s%n", Values.preview(ref), why == null ? "MATCH" : "MISMATCH: " + why);
          if (why != null) failures++;
        }
      }
      if (s == 0) throw new KilnException("no sample0_in0.npy in " + dir + "; give --samples DIR");
      out.printf("%d sample(s), %s%n", s, failures == 0 ? "all outputs match the reference" : failures + " output(s) differ");
      return failures == 0 ? 0 : 1;
    } finally {
      if (keep == null) FolderWriter.deleteTree(work);
    }
  }
}
