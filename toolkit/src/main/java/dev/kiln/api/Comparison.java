package dev.kiln.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Models x executors x devices, each run on the same input sets and checked against references:
 * one {@link Row} per model, executor and device. Made by {@code Kiln.compare(...)...run()};
 * immutable; shows as a table ({@link #toString()}), saves as {@code .html} (one self-contained
 * file, light and dark), {@code .md}, {@code .csv} or {@code .json}.
 *
 * <pre>{@code
 * var c = Kiln.compare(model)
 *     .executors(Executor.graph(), Executor.aot().interfaceApi("c").unpackedApi(true))
 *     .on(Device.host(), Device.qemu("mps2-an386"))
 *     .runs(10)
 *     .run();                      // inputs and references: the sample*_in*.npy / sample*_out*.npy beside the model
 * c.allMatch();                    // every row equal to its reference under the tolerance
 * c.save("graph-vs-aot.html");
 * }</pre>
 */
public final class Comparison {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** One input set's result in a row. */
  public record SetResult(String name, Boolean match, String mismatch, Double maxAbsDiff, Long maxDiffSteps, Boolean top1Agrees) {}

  /**
   * One model on one executor on one device. Figures a row cannot have are null: no reference (match,
   * diffs), no timing ({@code runs(0)}), instructions off a QEMU board, integer steps of a float output;
   * a row that failed has {@link #error()} and nothing measured after the failure.
   *
   * @param reference what the outputs were checked against: {@code samples} (the .npy files beside the
   *     model), {@code given} (InputSet.expecting), a run ({@code graph on host}), or {@code none}
   * @param maxAbsDiff the largest |output - reference| in real units (int8 outputs dequantized with their scale)
   * @param maxDiffSteps integer outputs: the largest difference in quantization steps (raw integer units)
   * @param top1Agreement share of input sets whose output 0 has the reference's argmax
   * @param flashBytes the device program's flash: code + read-only data + initialised data
   * @param codeBytes all code (model, runtime, C library); weights and params are the model's constants
   *     and its operators' parameter tables
   */
  public record Row(String model, String executor, String device, String reference, Boolean referenceMatch, String mismatch,
                    Double maxAbsDiff, Long maxDiffSteps, Double top1Agreement, Double latencyMedianUs, Double latencyMinUs,
                    Double latencyMaxUs, Integer runs, Long instructions, Integer arenaBytes, Long flashBytes, Long codeBytes,
                    Long weightsBytes, Long paramsBytes, Double compileMs, String error, List<SetResult> inputs) {
    public Row {
      inputs = inputs == null ? List.of() : List.copyOf(inputs);
    }

    /** True when the row ran and matched its reference (or had none to match). */
    public boolean ok() { return error == null && !Boolean.FALSE.equals(referenceMatch); }

    Row withReference(String ref, Boolean match, String why, Double diff, Long steps, Double top1, List<SetResult> sets) {
      return new Row(model, executor, device, ref, match, why, diff, steps, top1, latencyMedianUs, latencyMinUs, latencyMaxUs, runs,
          instructions, arenaBytes, flashBytes, codeBytes, weightsBytes, paramsBytes, compileMs, error, sets);
    }
  }

  private final List<Row> rows;
  private final int runs;
  private final String tolerance;
  private final Instant created;

  Comparison(List<Row> rows, int runs, String tolerance, Instant created) {
    this.rows = List.copyOf(rows);
    this.runs = runs;
    this.tolerance = tolerance;
    this.created = created;
  }

  /** Starts a comparison of {@code models}; see {@link Builder}. */
  public static Builder of(Model... models) {
    Args.notNull(models, "models", "Kiln.compare(models...)", "one or more models from Kiln.load(...)");
    Builder b = new Builder();
    for (Model m : models) b = b.model(Args.notNull(m, "model", "Kiln.compare(models...)", "a model from Kiln.load(...)"));
    return b;
  }

  public List<Row> rows() { return rows; }

  /** The row of {@code model} (name), {@code executor} (label such as {@code aot-c-unpacked}) and {@code device} (label such as {@code host}). */
  public Row row(String model, String executor, String device) {
    for (Row r : rows) if (r.model.equals(model) && r.executor.equals(executor) && r.device.equals(device)) return r;
    StringBuilder sb = new StringBuilder("no row for " + model + " / " + executor + " / " + device + "; the rows are:");
    for (Row r : rows) sb.append("\n  ").append(r.model).append(" / ").append(r.executor).append(" / ").append(r.device);
    throw new KilnException(sb.toString());
  }

  /** True when every row ran and matched its reference. */
  public boolean allMatch() { return rows.stream().allMatch(Row::ok); }

  /** The rows that failed or differ from their reference. */
  public List<Row> mismatches() { return rows.stream().filter(r -> !r.ok()).toList(); }

  /** Timed rounds per row. */
  public int runs() { return runs; }

  /** The tolerance the outputs were checked with, in words. */
  public String tolerance() { return tolerance; }

  public Instant created() { return created; }

  /**
   * Writes the comparison in the format its extension names: {@code .html} (one self-contained file:
   * styles and charts inline, nothing fetched, light and dark), {@code .md}, {@code .csv} or {@code .json}.
   */
  public Path save(String path) {
    Args.notNull(path, "path", "save(path)", "a file ending in .html, .md, .csv or .json, e.g. \"comparison.html\"");
    return save(Path.of(path));
  }

  public Path save(Path path) {
    Args.notNull(path, "path", "save(path)", "a file ending in .html, .md, .csv or .json, e.g. Path.of(\"comparison.html\")");
    String text = format(path.getFileName().toString());
    try {
      Path parent = path.toAbsolutePath().getParent();
      if (parent != null) Files.createDirectories(parent);
      Files.writeString(path, text, StandardCharsets.UTF_8);
      return path;
    } catch (IOException e) {
      throw new KilnException("cannot write " + path + ": " + e.getMessage(), e);
    }
  }

  /** The text {@link #save} writes for a file named {@code fileName}. */
  public String format(String fileName) {
    String f = fileName.toLowerCase(Locale.ROOT);
    if (f.endsWith(".html") || f.endsWith(".htm")) return toHtml();
    if (f.endsWith(".md") || f.endsWith(".markdown")) return toMarkdown();
    if (f.endsWith(".csv")) return toCsv();
    if (f.endsWith(".json")) return toJson();
    throw new KilnException("cannot tell the format of '" + fileName + "': name the file .html, .md, .csv or .json");
  }

  /** {@code {"rows": [{"model", "executor", "device", "reference_match", "max_abs_diff", "latency_us", ...}], ...}}. */
  public String toJson() {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode arr = root.putArray("rows");
    for (Row r : rows) {
      ObjectNode o = arr.addObject();
      for (Map.Entry<String, Object> e : flat(r).entrySet()) o.putPOJO(e.getKey(), e.getValue());
      ArrayNode sets = o.putArray("inputs");
      for (SetResult s : r.inputs) {
        ObjectNode so = sets.addObject();
        so.put("name", s.name());
        so.putPOJO("match", s.match());
        so.putPOJO("mismatch", s.mismatch());
        so.putPOJO("max_abs_diff", finite(s.maxAbsDiff()));
        so.putPOJO("max_diff_steps", s.maxDiffSteps());
        so.putPOJO("top1_agrees", s.top1Agrees());
      }
    }
    root.put("all_match", allMatch());
    root.put("runs", runs);
    root.put("tolerance", tolerance);
    root.put("created", created.toString());
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new KilnException("could not write the comparison as JSON: " + e.getMessage(), e);
    }
  }

  /** The columns of {@link #toCsv()} and of each JSON row, in order. */
  public static final List<String> COLUMNS = List.of("model", "executor", "device", "reference", "reference_match", "mismatch",
      "max_abs_diff", "max_diff_steps", "top1_agreement", "latency_us", "latency_min_us", "latency_max_us", "runs", "instructions",
      "arena_bytes", "flash_bytes", "code_bytes", "weights_bytes", "params_bytes", "compile_ms", "error");

  static Map<String, Object> flat(Row r) {
    Map<String, Object> m = new LinkedHashMap<>();
    Object[] values = {r.model, r.executor, r.device, r.reference, r.referenceMatch, r.mismatch, finite(r.maxAbsDiff), r.maxDiffSteps,
        r.top1Agreement, r.latencyMedianUs, r.latencyMinUs, r.latencyMaxUs, r.runs, r.instructions, r.arenaBytes, r.flashBytes,
        r.codeBytes, r.weightsBytes, r.paramsBytes, r.compileMs, r.error};
    for (int i = 0; i < values.length; i++) m.put(COLUMNS.get(i), values[i]);
    return m;
  }

  private static Double finite(Double d) { return d == null || d.isNaN() || d.isInfinite() ? null : d; }

  /** RFC 4180 CSV: a header of {@link #COLUMNS}, one line per row, empty cells for what a row lacks. */
  public String toCsv() { return ComparisonFormats.csv(this); }

  /** A GitHub-flavoured Markdown table with a summary line. */
  public String toMarkdown() { return ComparisonFormats.markdown(this); }

  /** One self-contained HTML document: table, inline SVG charts and CSS-only bars; light and dark. */
  public String toHtml() { return ComparisonFormats.htmlDocument(this); }

  /**
   * The table with CSS-only bars as an HTML fragment (no SVG, no style sheet: inline styles that
   * read on light and dark backgrounds), for notebooks that strip SVG from HTML.
   */
  public String toHtmlFragment() { return ComparisonFormats.htmlFragment(this); }

  /** The charts (latency with min-max whiskers, flash split) as one standalone SVG image. */
  public String chartSvg() { return ComparisonFormats.chartSvg(this); }

  /** The table as aligned text. */
  @Override public String toString() { return ComparisonFormats.text(this); }

  @Override public boolean equals(Object o) {
    return o instanceof Comparison c && c.rows.equals(rows) && c.runs == runs && c.tolerance.equals(tolerance) && c.created.equals(created);
  }

  @Override public int hashCode() { return Objects.hash(rows, runs, tolerance, created); }

  /**
   * What to compare, fluent and immutable (each call returns a changed copy): models (or builds) x
   * executors x devices x input sets, the reference and tolerance, and timed rounds. {@link #run()}
   * runs it and returns the {@link Comparison}.
   */
  public static final class Builder {
    private final List<Model> models;
    private final List<Build> builds;
    private final List<Executor> executors;
    private final List<Device> devices;
    private final List<InputSet> inputs;
    private final Executor againstExecutor;
    private final Device againstDevice;
    private final Tolerance tolerance;
    private final int runs;

    Builder() {
      this(List.of(), List.of(), List.of(Executor.graph(), Executor.aot().interfaceApi("c").unpackedApi(true)), List.of(Device.host()),
          null, null, null, Tolerance.project(), 10);
    }

    private Builder(List<Model> models, List<Build> builds, List<Executor> executors, List<Device> devices, List<InputSet> inputs,
                    Executor againstExecutor, Device againstDevice, Tolerance tolerance, int runs) {
      this.models = List.copyOf(models);
      this.builds = List.copyOf(builds);
      this.executors = List.copyOf(executors);
      this.devices = List.copyOf(devices);
      this.inputs = inputs == null ? null : List.copyOf(inputs);
      this.againstExecutor = againstExecutor;
      this.againstDevice = againstDevice;
      this.tolerance = tolerance;
      this.runs = runs;
    }

    private Builder copy(List<Model> m, List<Build> b, List<Executor> e, List<Device> d, List<InputSet> i, Executor ae, Device ad,
                         Tolerance t, int r) {
      return new Builder(m, b, e, d, i, ae, ad, t, r);
    }

    Builder model(Model m) {
      List<Model> ms = new ArrayList<>(models);
      ms.add(m);
      return copy(ms, builds, executors, devices, inputs, againstExecutor, againstDevice, tolerance, runs);
    }

    /** The executors (and AoT option combinations) each model is built for; default graph and AoT C-interface unpacked. */
    public Builder executors(Executor... list) {
      Args.notNull(list, "executors", "executors(executors...)", "Executor.graph(), Executor.aot().interfaceApi(\"c\").unpackedApi(true), ...");
      if (list.length == 0) throw new KilnException("executors(): give at least one, e.g. Executor.graph()");
      for (Executor e : list) Args.notNull(e, "executor", "executors(executors...)", "an Executor such as Executor.graph()");
      return copy(models, builds, List.of(list), devices, inputs, againstExecutor, againstDevice, tolerance, runs);
    }

    /**
     * Builds made already ({@code model.build(...)}): each is compared as it is (no second compile);
     * a model with builds here is compared on those builds only.
     */
    public Builder executors(Build... list) {
      Args.notNull(list, "builds", "executors(builds...)", "builds such as model.build(Executor.graph())");
      if (list.length == 0) throw new KilnException("executors(): give at least one build, e.g. model.build(Executor.graph())");
      for (Build b : list) Args.notNull(b, "build", "executors(builds...)", "a Build from model.build(executor)");
      return copy(models, List.of(list), executors, devices, inputs, againstExecutor, againstDevice, tolerance, runs);
    }

    /** The devices every build runs on; default {@code Device.host()}. */
    public Builder on(Device... list) {
      Args.notNull(list, "devices", "on(devices...)", "Device.host(), Device.qemu(\"mps2-an386\"), ...");
      if (list.length == 0) throw new KilnException("on(): give at least one device, e.g. Device.host()");
      for (Device d : list) Args.notNull(d, "device", "on(devices...)", "a Device such as Device.host()");
      return copy(models, builds, executors, List.of(list), inputs, againstExecutor, againstDevice, tolerance, runs);
    }

    /**
     * The input sets every model runs (default: the {@code sample*_in*.npy} beside each model file,
     * with the {@code sample*_out*.npy} as references).
     */
    public Builder inputs(InputSet... sets) {
      Args.notNull(sets, "sets", "inputs(sets...)", "InputSet.of(\"name\", tensor) or InputSet.samplesBeside(modelFile)");
      return inputs(List.of(sets));
    }

    public Builder inputs(List<InputSet> sets) {
      Args.notNull(sets, "sets", "inputs(sets)", "InputSet.of(\"name\", tensor) or InputSet.samplesBeside(modelFile)");
      if (sets.isEmpty()) throw new KilnException("inputs(): no input sets; give at least one, e.g. InputSet.of(\"x\", Tensor.load(\"x.npy\"))");
      for (InputSet s : sets) Args.notNull(s, "set", "inputs(sets)", "an InputSet");
      return copy(models, builds, executors, devices, sets, againstExecutor, againstDevice, tolerance, runs);
    }

    /** One input set of the given tensors (model input order), named {@code input}, without a reference. */
    public Builder inputs(Tensor... oneSet) {
      Args.notNull(oneSet, "tensors", "inputs(tensors...)", "one Tensor per model input");
      return inputs(InputSet.of("input", oneSet));
    }

    /**
     * Checks every row against the run of {@code executor} on {@code device} (same model, same inputs)
     * instead of the input sets' expected outputs; that run must be among the rows.
     */
    public Builder against(Executor executor, Device device) {
      Args.notNull(executor, "executor", "against(executor, device)", "the reference run's executor, e.g. Executor.graph()");
      Args.notNull(device, "device", "against(executor, device)", "the reference run's device, e.g. Device.host()");
      return copy(models, builds, executors, devices, inputs, executor, device, tolerance, runs);
    }

    /** When an output matches its reference; default {@link Tolerance#project()}. */
    public Builder tolerance(Tolerance t) {
      Args.notNull(t, "tolerance", "tolerance(t)", "Tolerance.project(), Tolerance.absolute(1e-3) or Tolerance.steps(1)");
      return copy(models, builds, executors, devices, inputs, againstExecutor, againstDevice, t, runs);
    }

    /** Timed rounds of one run each on the device (median, min, max); 0 skips timing. Default 10. */
    public Builder runs(int n) {
      if (n < 0) throw new KilnException("runs(n): n is the number of timed rounds, 0 (no timing) or more, not " + n);
      return copy(models, builds, executors, devices, inputs, againstExecutor, againstDevice, tolerance, n);
    }

    /** Runs every model x executor x device on every input set and checks the outputs. */
    public Comparison run() { return ComparisonRunner.run(this); }

    List<Model> models() { return models; }

    List<Build> builds() { return builds; }

    List<Executor> executors() { return executors; }

    List<Device> devices() { return devices; }

    List<InputSet> inputSets() { return inputs; }

    Executor againstExecutor() { return againstExecutor; }

    Device againstDevice() { return againstDevice; }

    Tolerance tolerance() { return tolerance; }

    int runs() { return runs; }

    @Override public String toString() {
      return "Kiln.compare(" + models.stream().map(Model::name).toList() + ")" + " executors " + executors.stream().map(Executor::label).toList()
          + (builds.isEmpty() ? "" : " builds " + builds.stream().map(b -> b.model().name() + "/" + b.executor().label()).toList())
          + " on " + devices.stream().map(Device::label).toList() + ", " + runs + " timed runs";
    }
  }
}
