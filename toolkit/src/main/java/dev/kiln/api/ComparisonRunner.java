package dev.kiln.api;

import dev.kiln.ir.DType;
import dev.kiln.project.ProgramMemory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a {@link Comparison.Builder}: builds each model for each executor once, flashes each build on
 * each device once, runs every input set, times the run, reads flash and arena, then checks every
 * row's outputs against its reference (the input sets' expected outputs, or another row's).
 * A row that fails (a build refused, a board too small, a device error) is kept with its error.
 */
final class ComparisonRunner {
  private ComparisonRunner() {}

  /** A row as measured, with the outputs of each input set (null where the row failed). */
  private record Measured(Model model, List<InputSet> sets, Comparison.Row row, List<List<Tensor>> outputs) {}

  static Comparison run(Comparison.Builder b) {
    List<Model> models = new ArrayList<>(b.models());
    for (Build build : b.builds()) if (models.stream().noneMatch(m -> m == build.model())) models.add(build.model());
    if (models.isEmpty()) throw new KilnException("Kiln.compare(): no models; pass models from Kiln.load(...) or builds from model.build(...)");
    Map<Model, List<InputSet>> setsOf = new IdentityHashMap<>();
    for (Model m : models) setsOf.put(m, inputSets(b, m));
    checkAgainst(b, models);

    List<Measured> measured = new ArrayList<>();
    for (Model m : models) {
      List<Build> given = b.builds().stream().filter(x -> x.model() == m).toList();
      List<Object> subjects = new ArrayList<>(given.isEmpty() ? b.executors() : given);
      for (Object subject : subjects) {
        Executor ex = subject instanceof Build g ? g.executor() : (Executor) subject;
        Build build = null;
        String buildError = null;
        try {
          build = subject instanceof Build g ? g : m.build(ex);
        } catch (KilnException e) {
          buildError = e.getMessage();
        }
        for (Device d : b.devices()) {
          stopIfInterrupted(measured.size());
          measured.add(build == null ? failed(m, setsOf.get(m), ex, d, null, "build failed: " + buildError)
              : measure(m, setsOf.get(m), build, d, b.runs()));
        }
      }
    }
    stopIfInterrupted(measured.size());
    List<Comparison.Row> rows = new ArrayList<>();
    for (Measured x : measured) rows.add(check(x, measured, b));
    return new Comparison(rows, b.runs(), b.tolerance().toString(), Instant.now());
  }

  /**
   * An interrupted thread (a notebook's interrupt closes the cell's sessions, so the row running
   * fails) runs no further rows: the comparison stops, saying how far it got.
   */
  private static void stopIfInterrupted(int done) {
    if (Thread.currentThread().isInterrupted()) {
      throw new KilnException("Kiln.compare(...).run() was interrupted after " + done + " row" + (done == 1 ? "" : "s")
          + "; run it again for the whole comparison");
    }
  }

  private static List<InputSet> inputSets(Comparison.Builder b, Model m) {
    if (b.inputSets() != null) return b.inputSets();
    Path file = Path.of(m.source());
    if (!Files.isRegularFile(file)) {
      throw new KilnException("Kiln.compare(): " + m.name() + " was not read from a file here (" + m.source()
          + "), so there are no samples beside it; give inputs: .inputs(InputSet.of(\"x\", tensor))");
    }
    List<InputSet> sets = InputSet.samplesBeside(file);
    if (sets.isEmpty()) {
      throw new KilnException("Kiln.compare(): no sample<s>_in<i>.npy beside " + file + "; give inputs: .inputs(InputSet.of(\"x\", tensor)"
          + ".expecting(reference)) or save samples there");
    }
    return sets;
  }

  private static void checkAgainst(Comparison.Builder b, List<Model> models) {
    if (b.againstExecutor() == null) return;
    String ex = b.againstExecutor().label();
    String dev = b.againstDevice().label();
    if (b.devices().stream().noneMatch(d -> d.label().equals(dev))) {
      throw new KilnException("against(" + ex + ", " + dev + "): " + dev + " is not among the devices " + b.devices().stream().map(Device::label).toList()
          + "; add it with on(...)");
    }
    for (Model m : models) {
      List<Build> given = b.builds().stream().filter(x -> x.model() == m).toList();
      List<String> labels = given.isEmpty() ? b.executors().stream().map(Executor::label).toList()
          : given.stream().map(g -> g.executor().label()).toList();
      if (!labels.contains(ex)) {
        throw new KilnException("against(" + ex + ", " + dev + "): " + m.name() + " is compared on " + labels + " only; add " + ex
            + " to executors(...)");
      }
    }
  }

  private static Measured failed(Model m, List<InputSet> sets, Executor ex, Device d, Build build, String error) {
    return new Measured(m, sets, new Comparison.Row(m.name(), ex.label(), d.label(), null, null, null, null, null, null, null, null, null,
        null, null, build == null ? null : build.arenaBytes(), null, null, null, null, build == null ? null : build.compileMillis(), error,
        List.of()), null);
  }

  private static Measured measure(Model m, List<InputSet> sets, Build build, Device d, int runs) {
    for (InputSet s : sets) {
      if (s.inputs().size() != m.inputs().size()) {
        throw new KilnException("input set " + s.name() + " has " + s.inputs().size() + " tensor(s), but " + m.name() + " takes "
            + m.inputs().size() + ": " + m.inputs().stream().map(TensorInfo::describe).toList());
      }
    }
    List<List<Tensor>> outputs = new ArrayList<>();
    Timing.Result timing = null;
    Long instructions = null;
    ProgramMemory memory = null;
    String error = null;
    try (DeviceSession session = build.flash(d)) {
      memory = session.programMemory().orElse(null);
      ModelExecutor exec = session.executor();
      for (InputSet s : sets) outputs.add(exec.infer(s.inputs()));
      if (runs > 0) timing = session.timeEvaluator().repeat(runs).number(1).measure();
      if (runs > 0 && d.kind() == Device.Kind.QEMU && d.icountShift() >= 7) instructions = session.timeEvaluator().instructions();
    } catch (KilnException e) {
      error = e.getMessage();
    }
    Comparison.Row row = new Comparison.Row(m.name(), build.executor().label(), d.label(), null, null, null, null, null, null,
        timing == null ? null : timing.medianMicros(), timing == null ? null : timing.minMicros(), timing == null ? null : timing.maxMicros(),
        timing == null ? null : runs, instructions, build.arenaBytes(), memory == null ? null : memory.flash(),
        memory == null ? null : memory.code(), memory == null ? null : memory.weights(), memory == null ? null : memory.operatorParameters(),
        build.compileMillis(), error, List.of());
    return new Measured(m, sets, row, error == null ? outputs : null);
  }

  /** The row with its reference figures filled in. */
  private static Comparison.Row check(Measured x, List<Measured> all, Comparison.Builder b) {
    Comparison.Row row = x.row;
    if (row.error() != null) return row;
    String refName;
    List<List<Tensor>> refs = new ArrayList<>();
    if (b.againstExecutor() != null) {
      String ex = b.againstExecutor().label();
      String dev = b.againstDevice().label();
      refName = ex + " on " + dev;
      Measured ref = all.stream().filter(o -> o.model == x.model && o.row.executor().equals(ex) && o.row.device().equals(dev))
          .findFirst().orElseThrow();
      if (ref.outputs == null) {
        return row.withReference(refName, null, "the reference run failed: " + ref.row.error(), null, null, null, List.of());
      }
      refs.addAll(ref.outputs);
    } else {
      boolean any = false;
      for (InputSet s : x.sets) {
        refs.add(s.expected().orElse(null));
        any |= s.expected().isPresent();
      }
      if (!any) return row.withReference("none", null, null, null, null, null, List.of());
      refName = b.inputSets() == null ? "samples" : "given";
    }
    List<Comparison.SetResult> sets = new ArrayList<>();
    boolean match = true;
    String firstMismatch = null;
    double maxDiff = 0;
    Long maxSteps = null;
    int agree = 0;
    int ranked = 0;
    for (int s = 0; s < x.sets.size(); s++) {
      List<Tensor> got = x.outputs.get(s);
      List<Tensor> want = refs.get(s);
      if (want == null) {
        sets.add(new Comparison.SetResult(x.sets.get(s).name(), null, "no reference", null, null, null));
        continue;
      }
      String why = null;
      double diff = 0;
      Long steps = null;
      if (want.size() != got.size()) {
        why = "the reference has " + want.size() + " output(s), the model " + got.size();
        diff = Double.NaN;
      } else {
        for (int j = 0; j < got.size(); j++) {
          String w = b.tolerance().check(got.get(j), want.get(j));
          if (w != null && why == null) why = "output " + j + ": " + w;
          double[] d = diff(got.get(j), want.get(j));
          if (Double.isNaN(d[0])) {
            diff = Double.NaN;
            continue;
          }
          TensorInfo info = x.model.outputs().get(j);
          boolean integer = got.get(j).dtype() != DType.FLOAT32;
          double real = integer && info.isQuantized() ? d[0] * info.scale() : d[0];
          if (!Double.isNaN(diff)) diff = Math.max(diff, real);
          if (integer) steps = Math.max(steps == null ? 0 : steps, (long) d[0]);
        }
      }
      Boolean top1 = null;
      if (!got.isEmpty() && !want.isEmpty() && got.get(0).elements() > 1 && got.get(0).elements() == want.get(0).elements()) {
        top1 = got.get(0).argmax() == want.get(0).argmax();
        ranked++;
        if (top1) agree++;
      }
      sets.add(new Comparison.SetResult(x.sets.get(s).name(), why == null, why, diff, steps, top1));
      if (why != null) {
        match = false;
        if (firstMismatch == null) firstMismatch = x.sets.get(s).name() + ": " + why;
      }
      maxDiff = Double.isNaN(diff) || Double.isNaN(maxDiff) ? Double.NaN : Math.max(maxDiff, diff);
      if (steps != null) maxSteps = Math.max(maxSteps == null ? 0 : maxSteps, steps);
    }
    return row.withReference(refName, match, firstMismatch, maxDiff, maxSteps, ranked == 0 ? null : (double) agree / ranked, sets);
  }

  /** {max |a - b|} in raw units, or NaN when the tensors cannot be set side by side (size or dtype differs). */
  private static double[] diff(Tensor a, Tensor b) {
    if (a.elements() != b.elements() || a.dtype() != b.dtype()) return new double[] {Double.NaN};
    double[] x = Tolerance.values(a);
    double[] y = Tolerance.values(b);
    double worst = 0;
    for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
    return new double[] {worst};
  }
}
