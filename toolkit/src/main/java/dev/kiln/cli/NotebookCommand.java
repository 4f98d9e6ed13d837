package dev.kiln.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.api.KilnException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code kiln notebook NOTEBOOK -p name=value ... [-o OUT]}: runs a notebook with other inputs,
 * papermill-style ({@link NotebookParameters}): the values are injected in a cell after the one
 * tagged {@code parameters}, then {@code jupyter nbconvert --execute} runs it with the Kiln kernel
 * in the notebook's folder (relative paths work as in the notebook) and writes OUT.
 */
@Command(name = "notebook", mixinStandardHelpOptions = true,
    description = {"Runs a notebook with parameters (papermill-style): each -p NAME=VALUE is declared again in a cell injected "
        + "after the cell tagged 'parameters' (first, if there is none), then the notebook is executed with "
        + "jupyter nbconvert and the Kiln kernel, and written to OUT.",
        "A VALUE is written as a literal of the type the parameters cell declares (String: quoted; int, double, boolean: "
            + "checked); for other types it is Java text, e.g. -p 'device=Device.qemu(\"mps2-an386\")'."})
final class NotebookCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "NOTEBOOK", description = "An .ipynb file (nbformat 4).")
  Path notebook;

  @Option(names = {"-p", "--parameter"}, paramLabel = "NAME=VALUE", description = "A parameter; repeatable.")
  List<String> parameters = new ArrayList<>();

  @Option(names = {"-o", "--output"}, paramLabel = "OUT", description = "The executed notebook (default: NOTEBOOK's name + .out.ipynb, here).")
  Path output;

  @Option(names = "--kernel", paramLabel = "NAME",
      description = "The kernelspec (default: the notebook's, else kiln; KILN_KERNEL_NAME overrides the default).")
  String kernel;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300", description = "Per cell (default ${DEFAULT-VALUE}).")
  int timeout;

  @Option(names = "--inject-only", description = "Write OUT with the injected cell, without executing it.")
  boolean injectOnly;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Override public Integer call() throws Exception {
    if (!Files.isRegularFile(notebook)) throw new KilnException("no such notebook: " + notebook.toAbsolutePath());
    Map<String, String> params = NotebookParameters.parse(parameters);
    ObjectNode nb;
    try {
      nb = (ObjectNode) JSON.readTree(notebook.toFile());
    } catch (IOException | ClassCastException e) {
      throw new KilnException("cannot read notebook " + notebook + ": " + e.getMessage() + "; it must be an nbformat 4 .ipynb file");
    }
    ObjectNode injected = NotebookParameters.inject(nb, params);
    Path out = output != null ? output : Path.of(notebook.getFileName().toString().replaceFirst("\\.ipynb$", "") + ".out.ipynb");
    Path outAbs = out.toAbsolutePath();
    if (outAbs.getParent() != null) Files.createDirectories(outAbs.getParent());
    var stdout = spec.commandLine().getOut();
    if (injectOnly) {
      Files.writeString(outAbs, JSON.writeValueAsString(injected) + "\n", StandardCharsets.UTF_8);
      stdout.println("injected notebook: " + outAbs);
      return 0;
    }
    String kernelName = kernel != null ? kernel
        : System.getenv("KILN_KERNEL_NAME") != null ? System.getenv("KILN_KERNEL_NAME")
        : nb.path("metadata").path("kernelspec").path("name").asText("kiln");
    Path dir = notebook.toAbsolutePath().getParent();
    // beside the notebook, so the kernel's working folder is the notebook's
    Path staged = dir.resolve("." + notebook.getFileName().toString().replaceFirst("\\.ipynb$", "") + ".kiln-params.ipynb");
    Files.writeString(staged, JSON.writeValueAsString(injected) + "\n", StandardCharsets.UTF_8);
    try {
      List<String> cmd = List.of("jupyter", "nbconvert", "--to", "notebook", "--execute",
          "--ExecutePreprocessor.kernel_name=" + kernelName, "--ExecutePreprocessor.timeout=" + timeout,
          "--output-dir", outAbs.getParent().toString(), "--output", outAbs.getFileName().toString(), staged.toString());
      Path logFile = Files.createTempFile("kiln-notebook", ".log");
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(logFile.toFile());
      Process p;
      try {
        p = pb.start();
      } catch (IOException e) {
        throw new KilnException("cannot run jupyter nbconvert (" + e.getMessage() + "); install it with ./install");
      }
      long budget = (long) timeout * Math.max(1, injected.path("cells").size()) + 120;
      if (!p.waitFor(budget, TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new KilnException("jupyter nbconvert still running after " + budget + " s; the notebook is not written");
      }
      String log = Files.readString(logFile, StandardCharsets.UTF_8);
      Files.deleteIfExists(logFile);
      if (p.exitValue() != 0) {
        throw new KilnException("executing " + notebook + " failed (jupyter nbconvert exit " + p.exitValue() + "):\n"
            + tail(log) + "\nThe injected cell is tagged 'injected-parameters'; check the values given with -p");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      Files.deleteIfExists(staged);
    }
    stdout.println("executed notebook: " + outAbs);
    return 0;
  }

  private static String tail(String s) {
    List<String> lines = s.lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 25), lines.size()));
  }
}
