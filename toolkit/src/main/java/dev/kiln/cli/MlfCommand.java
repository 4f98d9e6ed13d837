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

@Command(name = "mlf", mixinStandardHelpOptions = true,
    description = {"Exports a model as a Model Library Format archive (MLF version 7, as TVM v0.18 writes it).",
        "A microTVM project takes it unchanged: codegen/host/src/*.c compiles with codegen/host/include alone and links "
            + "against microTVM's CRT (TVMSystemLibEntryPoint, TVMAPISetLastError); runtime/ holds Kiln's runtime instead of TVM's CRT.",
        "Defaults are TVM's: --executor aot with interface-api packed and unpacked-api false."})
final class MlfCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "A .tflite or .onnx file.")
  Path model;

  @Mixin InputShapeOption inputShapes = new InputShapeOption();

  @Option(names = "--executor", defaultValue = "aot", description = "aot or graph (default: ${DEFAULT-VALUE}).")
  String executor;

  @Option(names = "--interface-api", defaultValue = "packed", description = "packed or c (AoT; default: ${DEFAULT-VALUE}).")
  String interfaceApi;

  @Option(names = "--unpacked-api", description = "Operators take raw pointers (AoT).")
  boolean unpackedApi;

  @Option(names = "--module-name", defaultValue = "default", description = "Symbol prefix tvmgen_<name>_ (default: ${DEFAULT-VALUE}).")
  String moduleName;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE.tar", description = "The archive to write (replaced only when complete).")
  Path output;

  @Override public Integer call() {
    Executor ex = switch (executor.toLowerCase(Locale.ROOT)) {
      case "aot" -> Executor.aot().interfaceApi(interfaceApi).unpackedApi(unpackedApi).moduleName(moduleName);
      case "graph" -> {
        if (spec.commandLine().getParseResult().hasMatchedOption("--interface-api") || unpackedApi) {
          throw new KilnException("--interface-api and --unpacked-api are AoT options; the graph executor calls packed operators: drop them or use --executor aot");
        }
        yield Executor.graph().moduleName(moduleName);
      }
      default -> throw new KilnException("--executor must be aot or graph, not '" + executor + "'");
    };
    Build build = Kiln.load(model, inputShapes.options()).build(ex);
    build.exportMlf(output);
    var out = spec.commandLine().getOut();
    if (ex.kind() == Executor.Kind.AOT && ex.interfaceApi().equals("c") && ex.unpackedApi()) {
      // TVM's interface-api=c: a firmware function, no metadata or registry (not host-driven, facts 5.5)
      out.printf("wrote %s (%s): the C interface %s(struct inputs *, struct outputs *), no system library%n", output, ex,
          build.entryPoint());
      return 0;
    }
    out.printf("wrote %s (%s): system library %d functions, entry %s%s%n", output, ex, build.systemLibraryFunctions().size(),
        build.entryPoint(), ex.kind() == Executor.Kind.GRAPH ? "; " + graphJsonFit(build.graphJson()) : "");
    return 0;
  }

  /** Whether microTVM's graph executor can be created with this JSON: it travels in one create call. */
  static String graphJsonFit(String json) {
    int bytes = json.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    return "graph JSON " + bytes + " bytes, " + (dev.kiln.project.DeviceProgram.linksGraphJson(json, 2048)
        ? "over microTVM's default 2048-byte packet: raise TVM_CRT_MAX_PACKET_SIZE_BYTES in crt_config.h, or use --executor aot"
        : "fits microTVM's default 2048-byte packet");
  }
}
