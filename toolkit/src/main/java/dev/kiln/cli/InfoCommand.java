package dev.kiln.cli;

import dev.kiln.api.Kiln;
import dev.kiln.api.Model;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "info", mixinStandardHelpOptions = true,
    description = "Shows a model's inputs and outputs (model and C names, shapes, dtypes, quantization), op counts, weight bytes and arena size.")
final class InfoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "A .tflite or .onnx file.")
  Path model;

  @Mixin InputShapeOption inputShapes = new InputShapeOption();

  @Option(names = "--json", description = "Print the build metadata as JSON instead of text.")
  boolean json;

  @Override public Integer call() {
    Model m = Kiln.load(model, inputShapes.options());
    var out = spec.commandLine().getOut();
    if (!json) out.print(m.summary());
    out.flush();
    var build = m.build(CompileCommand.standaloneAot("default"));
    if (json) {
      out.println(build.metadata().toPrettyString());
      return 0;
    }
    var compiled = build.compiled();
    out.printf("folded at compile time: %d of %d ops (constant inputs or static shapes); %d ops left for the device%n",
        compiled.foldedOps(), compiled.sourceOps(), compiled.graph().ops().size());
    var plan = build.memoryPlan();
    var withIo = build.compiled().memoryPlanWithIo();
    out.printf("arena: %d bytes (lower bound %d, greedy %d); with inputs and outputs: %d (lower bound %d)%n",
        plan.arenaBytes(), plan.lowerBoundBytes(), plan.greedyBytes(), withIo.arenaBytes(), withIo.lowerBoundBytes());
    return 0;
  }
}
