package dev.kiln.testing;

import dev.kiln.api.Executor;
import dev.kiln.api.HostModel;
import dev.kiln.api.Kiln;
import dev.kiln.api.Model;
import dev.kiln.api.Tensor;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * How far a model's outputs land from its reference engine's, over every sample of a case: the figures the README's
 * whole-model tables quote. Distances are in output steps for a quantized case (its manifest's tolerance names the
 * step) and in units of the float tolerance {@code 1e-5*(|ref|+max|ref|)} otherwise.
 */
public record ReferenceDistance(int kilnOps, long differ, long values, double worst, boolean inSteps) {

  /** Runs the case's first output through the AoT C interface (gcc, as a process) built under {@code work}. */
  public static ReferenceDistance measure(Case c, Path work) throws Exception {
    Model model = Kiln.load(c.modelFile(), c.loadOptions());
    HostModel program = model.build(Executor.aot().interfaceApi("c").unpackedApi(true)).compileForHost(work);
    double step = c.manifest().path("tolerance").path("step").asDouble(0);
    double worst = 0;
    long differ = 0;
    long values = 0;
    for (int s : c.samples()) {
      float[] a = program.run(List.of(Tensor.load(c.input(s, 0)))).get(0).toFloatArray();
      float[] r = Tensor.load(c.output(s, 0)).toFloatArray();
      double max = 0;
      for (float v : r) max = Math.max(max, Math.abs(v));
      for (int i = 0; i < r.length; i++) {
        double d = Math.abs(a[i] - r[i]);
        worst = Math.max(worst, step > 0 ? d / step : d / (1e-5 * (Math.abs(r[i]) + max)));
        if (d > 0) differ++;
      }
      values += r.length;
    }
    return new ReferenceDistance(model.graph().ops().size(), differ, values, worst, step > 0);
  }

  /** "N of M values differ from onnxruntime, worst W output steps" (or "x the float tolerance"). */
  public String describe(String engine) {
    return String.format(Locale.ROOT, "%d of %d values differ from %s, worst %.3f %s", differ, values, engine, worst,
        inSteps ? "output steps" : "x the float tolerance");
  }
}
