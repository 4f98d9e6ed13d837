package dev.kiln.cli;

import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnException;
import dev.kiln.api.Model;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "project", mixinStandardHelpOptions = true,
    description = {"Writes a self-contained firmware project for your board: the model's device library, the Kiln runtime",
        "and executors, the platform hooks to fill (UART read/write, timer, stop; platform/board/), ready QEMU examples,",
        "a Makefile, a CMakeLists.txt and README.md. Build it with your toolchain, flash it, then drive it from Kiln with",
        "Device.serial(...), or run an example in QEMU: make BOARD=qemu-mps2-an386."})
final class ProjectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "A .tflite or .onnx file.")
  Path model;

  @Mixin InputShapeOption inputShapes = new InputShapeOption();

  @Option(names = "--platform", required = true, description = "cortex-m or riscv32.")
  String platform;

  @Option(names = "--executor", defaultValue = "aot", description = "aot or graph (default: ${DEFAULT-VALUE}).")
  String executor;

  @Option(names = "--interface-api", defaultValue = "packed", description = "AoT only: c or packed (default: ${DEFAULT-VALUE}).")
  String interfaceApi;

  @Option(names = "--unpacked-api", description = "AoT only: operators take raw pointers.")
  boolean unpackedApi;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "Output folder (replaced only when complete).")
  Path output;

  @Override public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Executor ex = switch (executor.toLowerCase(Locale.ROOT)) {
      case "aot" -> Executor.aot().interfaceApi(interfaceApi).unpackedApi(unpackedApi);
      case "graph" -> Executor.graph();
      default -> throw new KilnException("--executor must be aot or graph, not '" + executor + "'");
    };
    Model m = Kiln.load(model, inputShapes.options());
    Path dir = m.build(ex).firmwareProject(output, platform);
    out.println("wrote " + dir + " (" + platform + ", " + ex + "): fill in platform/board/board.c, then make; "
        + "or try an example: make -C " + dir + " BOARD=" + (platform.equals("riscv32") ? "qemu-riscv32-virt" : "qemu-mps2-an386"));
    return 0;
  }
}
