package dev.kiln.cli;

import dev.kiln.api.Build;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "compile", mixinStandardHelpOptions = true,
    description = {"Compiles a model to C99 in a Model Library Format-style folder.",
        "The AoT C interface: cc -std=c99 -O2 -ffunction-sections -fdata-sections -I DIR/codegen/host/include DIR/codegen/host/src/*.c app.c -lm -Wl,--gc-sections",
        "builds a program that calls int32_t tvmgen_<module>_run(struct tvmgen_<module>_inputs*, struct tvmgen_<module>_outputs*)."})
final class CompileCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "A .tflite or .onnx file.")
  Path model;

  @Mixin InputShapeOption inputShapes = new InputShapeOption();

  @Option(names = "--executor", defaultValue = "aot", description = "aot or graph (default: ${DEFAULT-VALUE}).")
  String executor;

  @Option(names = "--interface-api", defaultValue = "c", description = "c or packed (default: ${DEFAULT-VALUE}).")
  String interfaceApi;

  @Option(names = "--unpacked-api", description = "Operators take raw pointers (required by --interface-api c).")
  boolean unpackedApi;

  @Option(names = "--module-name", defaultValue = "default", description = "Symbol prefix tvmgen_<name>_ (default: ${DEFAULT-VALUE}).")
  String moduleName;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "Output folder (replaced only when complete).")
  Path output;

  @Option(names = "--memory", description = "Also build the host device program (gcc, cached) and print its flash and RAM from the ELF.")
  boolean memory;

  @Override public Integer call() {
    Executor ex = switch (executor.toLowerCase(Locale.ROOT)) {
      case "aot" -> Executor.aot().interfaceApi(interfaceApi).unpackedApi(unpackedApi).moduleName(moduleName);
      case "graph" -> Executor.graph().moduleName(moduleName);
      default -> throw new KilnException("--executor must be aot or graph, not '" + executor + "'");
    };
    Build build = Kiln.load(model, inputShapes.options()).build(ex);
    build.exportTo(output);
    var out = spec.commandLine().getOut();
    out.printf("wrote %s (%s): entry point %s, arena %d bytes (lower bound %d), weights %d bytes%n",
        output, ex, build.entryPoint(), build.arenaBytes(), build.memoryPlan().lowerBoundBytes(), build.model().weightBytes());
    if (memory) {
      out.print(build.deviceMemory());
      out.flush();
    }
    return 0;
  }

  static Executor standaloneAot(String module) {
    return Executor.aot().interfaceApi("c").unpackedApi(true).moduleName(module);
  }
}
