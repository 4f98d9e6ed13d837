package dev.kiln.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The notebooks as a user meets them, through real Jupyter tools:
 * <ol>
 *   <li>the main job, {@code notebooks/run-seed}, executes seed-graph-vs-aot.ipynb headless on the
 *       host device (nbconvert) and writes the executed notebook and an HTML copy;</li>
 *   <li>{@code src/test/python/notebook_check.py} checks that executed notebook and executes
 *       quickstart.ipynb, int8-vs-float.ipynb and microtvm-drop-in.ipynb with nbclient, asserting values (outputs equal to
 *       the reference, accuracy, sizes) and the rich displays (HTML tables, SVG charts); each of
 *       its checks is one test here;</li>
 *   <li>headless Chromium opens the HTML copy: a screenshot that is not blank, and a DOM with the
 *       tables and charts;</li>
 *   <li>a real JupyterLab in headless Chromium opens every executed notebook untrusted, in the dark
 *       theme ({@link LabChecks}): legible tables, every chart drawn.</li>
 * </ol>
 * The kernel runs from this module's build ({@link TestKernelspec}). Needs python3 with nbclient
 * and nbconvert, and Debian's {@code chromium}.
 */
class NotebooksTest {
  private static final String KERNEL = "kiln-test";
  private static final long RUN_SEED_SECONDS = 240;
  private static final long CHECK_SECONDS = 300; // four notebooks (microtvm-drop-in adds about 15 s)
  private static final long CHROMIUM_SECONDS = 90;

  @TempDir Path temp;

  @TestFactory
  List<DynamicTest> theNotebooksRunHeadlessAndShowWhatTheyPromise() throws Exception {
    TestKernelspec.requirePythonJupyter("nbconvert");
    Path base = Path.of(System.getProperty("kiln.kernel.basedir", ".")).toAbsolutePath().normalize();
    Path notebooks = base.resolveSibling("notebooks");
    Path jupyter = TestKernelspec.write(temp.resolve("jupyter"), KERNEL);
    // the kiln command's classes for run-seed -p: this build's, as the kernel's
    String kilnClasspath = Path.of(System.getProperty("kiln.kernel.classes", "target/classes")).toAbsolutePath() + java.io.File.pathSeparator
        + Files.readString(Path.of(System.getProperty("kiln.kernel.classpathFile", "target/kernel-classpath.txt"))).strip();
    Map<String, String> env = Map.of("JUPYTER_PATH", jupyter.toString(), "JUPYTER_RUNTIME_DIR", temp.resolve("runtime").toString(),
        "KILN_KERNEL_NAME", KERNEL, "PYTHONUNBUFFERED", "1", "KILN_CLASSPATH", kilnClasspath);
    List<DynamicTest> tests = new ArrayList<>();

    // 1. The main job.
    Path out = temp.resolve("out");
    // with a parameter: run-seed injects it (papermill-style) in a cell of its own, which must run too
    Run seed = run(List.of("bash", notebooks.resolve("run-seed").toString(), out.toString(), "-p", "kilnProbe=41"), notebooks, env,
        RUN_SEED_SECONDS, temp.resolve("run-seed.log"));
    Path executed = out.resolve("seed-graph-vs-aot.ipynb");
    Path html = out.resolve("seed-graph-vs-aot.html");
    tests.add(DynamicTest.dynamicTest("notebooks/run-seed executes the seed notebook, writes it and an HTML copy, and prints where", () -> {
      assertEquals(0, seed.exit, "run-seed failed:\n" + seed.output);
      assertTrue(seed.output.contains("executed notebook: " + executed), seed.output);
      assertTrue(seed.output.contains("HTML copy:         " + html), seed.output);
      assertTrue(Files.size(executed) > 10_000 && Files.size(html) > 10_000, "files too small");
    }));

    tests.add(DynamicTest.dynamicTest("notebooks/run-seed -p kilnProbe=41 injects and runs the value in a cell tagged injected-parameters", () -> {
      JsonNode nb = new ObjectMapper().readTree(executed.toFile());
      JsonNode injected = null;
      int parametersAt = -1;
      int i = 0;
      for (JsonNode c : nb.get("cells")) {
        String tags = c.path("metadata").path("tags").toString();
        if (tags.contains("\"parameters\"")) parametersAt = i;
        if (tags.contains("injected-parameters")) {
          injected = c;
          assertEquals(parametersAt + 1, i, "the injected cell follows the parameters cell (or comes first)");
        }
        i++;
      }
      assertTrue(injected != null, "no injected cell");
      assertTrue(injected.path("source").toString().contains("var kilnProbe = 41;"), injected.toString());
      assertTrue(injected.path("execution_count").isInt(), "the injected cell did not run: " + injected);
      assertFalse(injected.path("outputs").toString().contains("\"error\""), injected.toString());
      assertFalse(Files.exists(notebooks.resolve(".seed-graph-vs-aot.kiln-params.ipynb")), "run-seed left its injected copy behind");
    }));

    // 2. The notebooks' outputs.
    Path report = temp.resolve("notebooks.json");
    List<String> check = new ArrayList<>(List.of("python3", base.resolve("src/test/python/notebook_check.py").toString(),
        "--kernel", KERNEL, "--notebooks", notebooks.toString(), "--report", report.toString(),
        "--save-executed", out.toString()));
    if (Files.exists(executed)) check.addAll(List.of("--seed-executed", executed.toString()));
    Run checks = run(check, notebooks, env, CHECK_SECONDS, temp.resolve("notebook_check.log"));
    if (!Files.exists(report)) fail("notebook_check.py wrote no report (exit " + checks.exit + "):\n" + checks.output);
    JsonNode results = new ObjectMapper().readTree(report.toFile());
    for (JsonNode r : results) {
      boolean ok = r.get("ok").asBoolean();
      String detail = r.get("detail").asText();
      tests.add(DynamicTest.dynamicTest(r.get("name").asText(), () -> {
        if (!ok) fail(detail + "\n--- notebook_check.py ---\n" + tail(checks.output));
      }));
    }
    if (results.isEmpty()) fail("empty report:\n" + checks.output);

    // 3. The HTML copy in a browser.
    String chromium = chromium();
    Path png = temp.resolve("seed.png");
    Run shot = chromium == null ? null : run(chromiumArgs(chromium, "--screenshot=" + png, "--window-size=1280,4000", html), temp,
        Map.of(), CHROMIUM_SECONDS, temp.resolve("chromium-shot.log"));
    tests.add(DynamicTest.dynamicTest("Chromium renders the HTML copy: a 1280x4000 screenshot that is not blank", () -> {
      requireChromium(chromium);
      assertTrue(Files.isRegularFile(png), "no screenshot (exit " + shot.exit + "):\n" + shot.output);
      BufferedImage image = ImageIO.read(png.toFile());
      assertEquals(1280, image.getWidth());
      assertEquals(4000, image.getHeight());
      long inked = 0;
      Set<Integer> colors = new HashSet<>();
      for (int y = 0; y < image.getHeight(); y += 2) {
        for (int x = 0; x < image.getWidth(); x += 2) {
          int rgb = image.getRGB(x, y) & 0xffffff;
          colors.add(rgb);
          int r = rgb >> 16;
          int g = (rgb >> 8) & 0xff;
          int b = rgb & 0xff;
          if (r < 200 || g < 200 || b < 200) inked++;
        }
      }
      double share = inked / (image.getWidth() / 2.0 * image.getHeight() / 2.0);
      assertTrue(share > 0.01, "only " + share * 100 + "% of the page has ink");
      assertTrue(colors.size() > 50, "only " + colors.size() + " colors: the charts did not render");
    }));
    Run dom = chromium == null ? null : run(chromiumArgs(chromium, "--dump-dom", null, html), temp, Map.of(), CHROMIUM_SECONDS,
        temp.resolve("chromium-dom.log"));
    tests.add(DynamicTest.dynamicTest("Chromium's DOM of the HTML copy has the I/O table, memory-plan SVGs, bar charts and the results", () -> {
      requireChromium(chromium);
      assertEquals(0, dom.exit, dom.output);
      String d = dom.stdout;
      assertTrue(d.contains("class=\"kiln-model\"") && d.contains(">inputs and outputs</caption>"), "no model I/O table");
      assertTrue(d.contains(">predict_images:0<") && d.contains(">predict_images_0<"), "the I/O table lacks a name");
      assertTrue(count(d, "aria-label=\"memory plan timeline") >= 4, "two builds and the side-by-side: four memory-plan SVGs");
      assertTrue(count(d, "aria-label=\"bar chart: top 10 of 10 classes") >= 3, "graph, aot and reference bar charts");
      assertTrue(count(d, "class=\"kiln-timing\"") == 2, "two timings");
      assertTrue(d.contains("class=\"kiln-error\""), "the wrong-name error display");
      assertTrue(d.contains("graph == aot:       true") && d.contains("aot == reference:   true"), "the equality cell's output");
    }));
    // 4. The executed notebooks as a reader opens them later: a real JupyterLab, dark theme, untrusted.
    List<String> executedNotebooks = new ArrayList<>();
    for (String n : List.of("seed-graph-vs-aot.ipynb", "quickstart.ipynb", "int8-vs-float.ipynb")) {
      if (Files.exists(out.resolve(n))) executedNotebooks.add(n);
    }
    tests.add(DynamicTest.dynamicTest("JupyterLab: every executed notebook is there to open (run-seed's and notebook_check's)", () -> {
      requireChromium(chromium);
      LabChecks.requireLab();
      assertEquals(3, executedNotebooks.size(), "executed notebooks in " + out + ": " + executedNotebooks);
    }));
    if (chromium != null && !executedNotebooks.isEmpty()) {
      long t0 = System.nanoTime();
      Map<String, Object> audits = LabChecks.audit(chromium, out, executedNotebooks, Files.exists(html) ? List.of(html) : List.of(),
          temp, Map.of());
      System.out.printf("JupyterLab browser check: %d notebooks in %.1f s%n", executedNotebooks.size(), (System.nanoTime() - t0) / 1e9);
      tests.addAll(LabChecks.tests(audits));
    }
    return tests;
  }

  private static List<String> chromiumArgs(String chromium, String action, String size, Path html) {
    List<String> args = new ArrayList<>(List.of(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--hide-scrollbars", "--user-data-dir=" + html.getParent().resolveSibling("chromium-profile")));
    args.add(action);
    if (size != null) args.add(size);
    args.add(html.toUri().toString());
    return args;
  }

  /** Debian's chromium (or another Chromium/Chrome on PATH), or null. */
  private static String chromium() {
    for (String name : new String[] {"chromium", "chromium-browser", "google-chrome"}) {
      for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(java.io.File.pathSeparator)) {
        Path p = Path.of(dir, name);
        if (Files.isExecutable(p)) return p.toString();
      }
    }
    return null;
  }

  private static void requireChromium(String chromium) {
    if (chromium == null) fail("headless Chromium is needed to check the HTML copy: apt-get install -y chromium (./install does)");
  }

  private record Run(int exit, String output, String stdout) {}

  /** Runs a command with a deadline; stdout alone, and stdout+stderr interleaved in {@code log}. */
  private static Run run(List<String> cmd, Path dir, Map<String, String> env, long seconds, Path log) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
    pb.environment().putAll(env);
    Path stdout = log.resolveSibling(log.getFileName() + ".stdout");
    pb.redirectOutput(stdout.toFile());
    pb.redirectError(log.toFile());
    Process p = pb.start();
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      String out = Files.readString(stdout, StandardCharsets.UTF_8);
      return new Run(-1, "still running after " + seconds + " s\n" + out + "\n" + Files.readString(log, StandardCharsets.UTF_8), out);
    }
    String out = Files.readString(stdout, StandardCharsets.UTF_8);
    return new Run(p.exitValue(), out + "\n--- stderr ---\n" + tail(Files.readString(log, StandardCharsets.UTF_8)), out);
  }

  private static String tail(String s) {
    List<String> lines = s.lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size()));
  }

  private static long count(String s, String needle) {
    long n = 0;
    for (Matcher m = Pattern.compile(Pattern.quote(needle)).matcher(s); m.find(); ) n++;
    return n;
  }
}
