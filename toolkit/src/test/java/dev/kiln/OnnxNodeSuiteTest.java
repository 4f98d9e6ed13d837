package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.api.Executor;
import dev.kiln.api.HostModel;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnException;
import dev.kiln.api.LoadOptions;
import dev.kiln.api.Model;
import dev.kiln.api.Tensor;
import dev.kiln.ir.DType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ONNX's backend node tests for every operator Kiln's ONNX frontend lists (made by
 * {@code fixtures/onnx_node_suite.py} into {@code resources/onnx-node/}): each is loaded, built for
 * the AoT C interface, compiled with gcc, run as a process and compared with the outputs onnx's
 * test expects (float32 within 1e-5*(|ref|+max|ref|), integers exactly). A test passes, or Kiln
 * refuses it with a one-line message when loading or building; a wrong output or any other failure
 * fails the test, and so does a refusal of a test that {@code results.tsv} records as passing.
 *
 * <p>With {@code -Dkiln.nodeSuite.update=true} the run rewrites {@code resources/onnx-node/results.tsv}
 * and the table in README.md between the {@code onnx-node-suite} markers, so merging new kernels
 * and rerunning updates the table.
 */
class OnnxNodeSuiteTest {
  private static final Path ROOT = Path.of("src/test/resources/onnx-node").toAbsolutePath();
  private static final Path RESULTS = ROOT.resolve("results.tsv");
  private static final Path README = Path.of("../README.md").toAbsolutePath().normalize();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, Result> RUN = new ConcurrentHashMap<>();
  /** {@code -Dkiln.nodeSuite.operators=Resize,Tile}: only these operators' tests (an update merges them into results.tsv). */
  private static final java.util.Set<String> ONLY = java.util.Set.of(System.getProperty("kiln.nodeSuite.operators", "").split(","))
      .stream().filter(x -> !x.isBlank()).collect(java.util.stream.Collectors.toUnmodifiableSet());

  enum Outcome { PASS, REFUSED, WRONG }

  record Result(String test, String operator, Outcome outcome, String reason) {}

  record Case(String name, Path folder, JsonNode manifest) {
    String operator() { return manifest.get("operator").asText(); }

    @Override public String toString() { return name; }
  }

  static Stream<Case> nodeTests() throws IOException {
    List<Case> out = new ArrayList<>();
    if (!Files.isDirectory(ROOT)) return Stream.empty();
    try (Stream<Path> dirs = Files.list(ROOT)) {
      for (Path d : (Iterable<Path>) dirs.sorted()::iterator) {
        Path m = d.resolve("manifest.json");
        if (!Files.exists(m)) continue;
        Case c = new Case(d.getFileName().toString(), d, JSON.readTree(m.toFile()));
        if (ONLY.isEmpty() || ONLY.contains(c.operator())) out.add(c);
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("nodeTests")
  void everyNodeTestPassesOrIsRefusedInOneLine(Case c, @TempDir Path work) throws Exception {
    Result r = run(c, work);
    RUN.put(c.name(), r);
    if (r.outcome() == Outcome.WRONG) fail(c.name() + " (" + c.operator() + "): " + r.reason());
    assertFalse(r.reason().contains("\n"), () -> c.name() + ": the refusal is not one line:\n" + r.reason());
    Map<String, Result> before = recorded();
    Result was = before.get(c.name());
    if (was != null && was.outcome() == Outcome.PASS && r.outcome() != Outcome.PASS) {
      fail(c.name() + " passed before (results.tsv) and is now refused: " + r.reason());
    }
  }

  /** The samples' input shapes, as a user gives them for symbolic dimensions (--input-shape). */
  static LoadOptions shapes(Case c) {
    LoadOptions o = LoadOptions.defaults();
    for (JsonNode in : c.manifest().get("inputs")) {
      if (!in.has("shape")) continue;
      int[] s = new int[in.get("shape").size()];
      boolean positive = true;
      for (int d = 0; d < s.length; d++) {
        s[d] = in.get("shape").get(d).asInt();
        positive &= s[d] >= 1;
      }
      if (positive && s.length > 0) o = o.andInputShape(in.get("name").asText(), s);
    }
    return o;
  }

  /** "its scales (input 1, 'scales') is computed at run time": the graph input a refusal asks to be a constant. */
  private static final java.util.regex.Pattern RUN_TIME_PARAMETER =
      java.util.regex.Pattern.compile("\\(input \\d+, '([^']+)'\\) is computed at run time");

  /**
   * Runs the test as written; if Kiln refuses it only because a parameter (scales, K, axes, pads, shape...) arrives as a
   * graph input, runs it again with that input compiled as a constant of the test's value
   * ({@code LoadOptions.constantInput}, what a user whose model takes it as an input does), input after input. Such a pass
   * records which inputs were constants ({@link #CONSTANTS}).
   */
  static Result run(Case c, Path work) {
    List<String> fixed = new ArrayList<>();
    Result r = runWith(c, work, fixed);
    while (r.outcome() == Outcome.REFUSED) {
      java.util.regex.Matcher m = RUN_TIME_PARAMETER.matcher(r.reason());
      if (!m.find()) break;
      int index = inputIndex(c, m.group(1));
      if (index < 0 || fixed.contains(m.group(1)) || !Files.exists(c.folder().resolve("sample0_in" + index + ".npy"))) break;
      fixed.add(m.group(1));
      r = runWith(c, work.resolve("constants" + fixed.size()), fixed); // refused again: what is left once the input is constant
    }
    if (r.outcome() == Outcome.PASS && !fixed.isEmpty()) return new Result(r.test(), r.operator(), r.outcome(), CONSTANTS + fixed);
    return r;
  }

  /** The reason recorded for a pass with inputs compiled as constants. */
  static final String CONSTANTS = "passes with these inputs as constants: ";

  private static int inputIndex(Case c, String name) {
    JsonNode inputs = c.manifest().get("inputs");
    for (int i = 0; i < inputs.size(); i++) if (inputs.get(i).get("name").asText().equals(name)) return i;
    return -1;
  }

  private static Result runWith(Case c, Path work, List<String> fixed) {
    Model model;
    try {
      LoadOptions options = shapes(c);
      for (String name : fixed) options = options.andConstantInput(name, Tensor.load(c.folder().resolve("sample0_in" + inputIndex(c, name) + ".npy")));
      model = Kiln.load(c.folder().resolve("model.onnx"), options);
    } catch (KilnException e) {
      return new Result(c.name(), c.operator(), Outcome.REFUSED, e.getMessage());
    } catch (RuntimeException e) {
      return new Result(c.name(), c.operator(), Outcome.WRONG, "loading crashed: " + e);
    }
    dev.kiln.api.Build build;
    try {
      build = model.build(Executor.aot().interfaceApi("c").unpackedApi(true));
    } catch (KilnException e) {
      return new Result(c.name(), c.operator(), Outcome.REFUSED, e.getMessage());
    } catch (RuntimeException e) {
      return new Result(c.name(), c.operator(), Outcome.WRONG, "building crashed: " + e);
    }
    if (c.manifest().has("no_data")) {
      return new Result(c.name(), c.operator(), Outcome.WRONG, "Kiln accepted a model whose data this suite could not convert ("
          + c.manifest().get("no_data").asText() + ")");
    }
    try {
      HostModel program = build.compileForHost(work);
      List<String> problems = new ArrayList<>();
      for (int s = 0; Files.exists(c.folder().resolve("sample" + s + "_in0.npy"))
          || s == 0 && c.manifest().get("inputs").isEmpty(); s++) {
        List<Tensor> inputs = new ArrayList<>();
        for (int i = 0; i < c.manifest().get("inputs").size(); i++) {
          if (fixed.contains(c.manifest().get("inputs").get(i).get("name").asText())) {
            // a constant now: a sample that feeds it another value is not this compiled model's to run
            Tensor x = Tensor.load(c.folder().resolve("sample" + s + "_in" + i + ".npy"));
            if (!java.util.Arrays.equals(x.bytes(), Tensor.load(c.folder().resolve("sample0_in" + i + ".npy")).bytes())) {
              return new Result(c.name(), c.operator(), Outcome.REFUSED, "sample " + s + " feeds input '"
                  + c.manifest().get("inputs").get(i).get("name").asText() + "' another value than sample 0, and it is computed at run time");
            }
            continue;
          }
          inputs.add(Tensor.load(c.folder().resolve("sample" + s + "_in" + i + ".npy")));
        }
        List<Tensor> outputs = program.run(inputs);
        for (int j = 0; j < outputs.size(); j++) {
          String why = mismatch(outputs.get(j), Tensor.load(c.folder().resolve("sample" + s + "_out" + j + ".npy")));
          Path ort = c.folder().resolve("sample" + s + "_ort" + j + ".npy");
          if (why != null && Files.exists(ort) && mismatch(outputs.get(j), Tensor.load(ort)) == null) why = null;
          if (why != null) problems.add("sample " + s + " output " + j + ": " + why);
        }
        if (c.manifest().get("inputs").isEmpty()) break;
      }
      return problems.isEmpty() ? new Result(c.name(), c.operator(), Outcome.PASS, "")
          : new Result(c.name(), c.operator(), Outcome.WRONG, String.join("; ", problems));
    } catch (RuntimeException e) {
      return new Result(c.name(), c.operator(), Outcome.WRONG, "failed after building: " + e);
    }
  }

  /** The project tolerance for float32 (equal infinities and NaNs match), integers exactly, shapes by element count. */
  static String mismatch(Tensor got, Tensor ref) {
    if (got.elements() != ref.elements()) return "size " + got.elements() + " != " + ref.elements();
    if (got.dtype() != ref.dtype()) return "dtype " + got.dtype() + " != " + ref.dtype();
    if (ref.dtype() != DType.FLOAT32) return dev.kiln.api.Tolerance.mismatch(got, ref);
    float[] a = got.toFloatArray();
    float[] r = ref.toFloatArray();
    double maxRef = 0;
    for (float v : r) if (Float.isFinite(v)) maxRef = Math.max(maxRef, Math.abs(v));
    for (int i = 0; i < r.length; i++) {
      if (Float.compare(a[i], r[i]) == 0 || Float.isNaN(a[i]) && Float.isNaN(r[i])) continue;
      double d = Math.abs((double) a[i] - r[i]);
      if (!(d <= 1e-5 * (Math.abs(r[i]) + maxRef))) return "element " + i + ": got " + a[i] + ", want " + r[i];
    }
    return null;
  }

  // ---- the record and the table -------------------------------------------------------------

  private static Map<String, Result> recorded;

  static synchronized Map<String, Result> recorded() throws IOException {
    if (recorded != null) return recorded;
    recorded = new LinkedHashMap<>();
    if (Files.exists(RESULTS)) {
      for (String line : Files.readAllLines(RESULTS, StandardCharsets.UTF_8)) {
        if (line.isBlank() || line.startsWith("#")) continue;
        String[] f = line.split("\t", 4);
        recorded.put(f[0], new Result(f[0], f[1], Outcome.valueOf(f[2].toUpperCase(Locale.ROOT)), f.length > 3 ? f[3] : ""));
      }
    }
    return recorded;
  }

  @AfterAll
  static void writeTheTable() throws IOException {
    if (RUN.isEmpty()) return;
    String table = table(RUN);
    Path target = Path.of("target/onnx-node-suite.md");
    Files.createDirectories(target.getParent());
    Files.writeString(target, table, StandardCharsets.UTF_8);
    if (!Boolean.getBoolean("kiln.nodeSuite.update")) return;
    Map<String, Result> all = new TreeMap<>(recorded());
    all.putAll(RUN);
    StringBuilder tsv = new StringBuilder("# test\toperator\toutcome\treason (made by OnnxNodeSuiteTest with -Dkiln.nodeSuite.update=true)\n");
    for (Result r : all.values()) {
      tsv.append(r.test()).append('\t').append(r.operator()).append('\t').append(r.outcome().name().toLowerCase(Locale.ROOT))
          .append('\t').append(shortReason(r.reason())).append('\n');
    }
    Files.writeString(RESULTS, tsv, StandardCharsets.UTF_8);
    String readme = Files.readString(README, StandardCharsets.UTF_8);
    String begin = "<!-- onnx-node-suite:begin -->";
    String end = "<!-- onnx-node-suite:end -->";
    int b = readme.indexOf(begin);
    int e = readme.indexOf(end);
    if (b < 0 || e < b) throw new IllegalStateException(README + " has no " + begin + " ... " + end + " block to update");
    Files.writeString(README, readme.substring(0, b + begin.length()) + "\n" + table(all) + readme.substring(e), StandardCharsets.UTF_8);
  }

  /** The per-operator table: counts and the distinct refusal reasons. */
  static String table(Map<String, Result> results) {
    Map<String, List<Result>> byOp = new TreeMap<>();
    for (Result r : results.values()) byOp.computeIfAbsent(r.operator(), k -> new ArrayList<>()).add(r);
    StringBuilder sb = new StringBuilder("| operator | tests | pass | of which with inputs as constants | refused | wrong | why refused (tests) |\n"
        + "|---|---|---|---|---|---|---|\n");
    int[] total = new int[5];
    for (Map.Entry<String, List<Result>> e : byOp.entrySet()) {
      int[] n = new int[3];
      int constants = 0;
      Map<String, Integer> reasons = new TreeMap<>();
      for (Result r : e.getValue()) {
        n[r.outcome().ordinal()]++;
        if (r.outcome() == Outcome.PASS && r.reason().startsWith(CONSTANTS)) constants++;
        if (r.outcome() == Outcome.REFUSED) reasons.merge(gist(r.reason()), 1, Integer::sum);
      }
      List<String> why = new ArrayList<>();
      reasons.entrySet().stream().sorted((x, y) -> y.getValue() - x.getValue())
          .forEach(x -> why.add(x.getKey() + " (" + x.getValue() + ")"));
      sb.append("| ").append(e.getKey()).append(" | ").append(e.getValue().size()).append(" | ").append(n[0]).append(" | ")
          .append(constants).append(" | ").append(n[1]).append(" | ").append(n[2]).append(" | ")
          .append(String.join("; ", why).replace("|", "\\|")).append(" |\n");
      total[0] += e.getValue().size();
      for (int i = 0; i < 3; i++) total[i + 1] += n[i];
      total[4] += constants;
    }
    sb.append("| **all** | ").append(total[0]).append(" | ").append(total[1]).append(" | ").append(total[4]).append(" | ")
        .append(total[2]).append(" | ").append(total[3]).append(" | |\n");
    return sb.toString();
  }

  /** The message without the file, the node label and the list of supported operators. */
  static String shortReason(String m) {
    String s = m.replaceFirst("^\\S*model\\.onnx: ", "");
    int cut = s.indexOf(" Supported operators (");
    if (cut >= 0) s = s.substring(0, cut);
    return s.replace('\t', ' ').replace('\n', ' ');
  }

  /**
   * A reason shortened for the table: what is out (the message up to its first ';'), without node
   * labels, names, shapes, numbers and type names, so tests refused for one reason count together.
   */
  static String gist(String m) {
    String s = shortReason(m).replaceFirst("^node \\d+( '[^']*')? \\([A-Za-z]+\\): ", "");
    s = s.replaceAll(": inputs \\[.*$", "");
    int semi = s.indexOf(';');
    if (semi > 0) s = s.substring(0, semi);
    s = s.replaceAll("'[^']*'", "'…'").replaceAll("\\[[0-9, ?]*\\]", "[…]")
        .replaceAll("\\b[A-Z][A-Z0-9]+ \\(\\d+\\)", "T").replaceAll("\\b(u?int\\d+|float32|bool)\\b", "T")
        .replaceAll("-?\\d+(\\.\\d+)?", "N").replaceAll("^node N( '…')? \\(([A-Za-z]+)\\) ", "").replace(" (N) (N)", " (N)");
    if (s.length() > 110) s = s.substring(0, 107) + "…";
    return s;
  }
}
