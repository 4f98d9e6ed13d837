package dev.kiln.cli;

import dev.kiln.api.KilnException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kiln}: compile and inspect models from a shell. Errors go to stderr, one sentence, exit 1. */
@Command(name = "kiln", mixinStandardHelpOptions = true, version = "kiln 0.1.0",
    description = "Compiles TFLite and ONNX models into portable C99 for microcontrollers.",
    subcommands = {InfoCommand.class, CompileCommand.class, MlfCommand.class, RunCommand.class, CompareCommand.class, VerifyCommand.class, BenchCommand.class,
        ProjectCommand.class, NotebookCommand.class, PortsCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
  @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces of errors.")
  boolean debug;

  @Override public void run() {
    CommandLine.usage(this, System.out);
  }

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs the command with the given streams; returns the exit code (for tests). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new Main());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
      boolean debug = parseResult.hasMatchedOption("--debug")
          || (parseResult.subcommand() != null && parseResult.subcommand().hasMatchedOption("--debug"));
      if (debug) ex.printStackTrace(err);
      String message = ex instanceof KilnException || ex instanceof UncheckedIOException
          ? ex.getMessage()
          : ex.getClass().getSimpleName() + ": " + ex.getMessage() + " (a Kiln bug: please report it with --debug output)";
      err.println("kiln: error: " + message);
      err.flush();
      return 1;
    });
    return cl.execute(args);
  }
}
