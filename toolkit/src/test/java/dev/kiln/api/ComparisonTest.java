package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.testing.ReferenceModels;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * {@code Kiln.compare} on the shared models, on the host device: the seed model on the graph
 * executor and AoT agrees with TFLite's reference on every sample, with the figures each build
 * reports itself (arena, flash of its device program), and every export format parses back to the
 * same rows.
 */
class ComparisonTest {
  static Model seed;
  static Path seedFile;
  static Comparison seedComparison;

  @TempDir Path temp;

  @BeforeAll static void compareTheSeedModel() {
    seedFile = ReferenceModels.shared("tflite", "digits_cnn_int8").modelFile();
    seed = Kiln.load(seedFile);
    seedComparison = Kiln.compare(seed).runs(5).run();
  }

  @Test void theSeedModelOnGraphAndAotMatchesTflitesReferenceOnEverySample() {
    Comparison c = seedComparison;
    assertEquals(2, c.rows().size(), c.toString());
    assertTrue(c.allMatch(), c.toString());
    for (String executor : List.of("graph", "aot-c-unpacked")) {
      Comparison.Row r = c.row("digits_cnn_int8", executor, "host");
      assertEquals("samples", r.reference());
      assertEquals(Boolean.TRUE, r.referenceMatch(), c.toString());
      assertNull(r.mismatch());
      assertNull(r.error());
      assertEquals(0.0, r.maxAbsDiff());
      assertEquals(0L, r.maxDiffSteps());
      assertEquals(1.0, r.top1Agreement());
      assertEquals(3, r.inputs().size());
      assertEquals(List.of("sample0", "sample1", "sample2"), r.inputs().stream().map(Comparison.SetResult::name).toList());
      assertEquals(5, r.runs());
      assertTrue(r.latencyMinUs() > 0 && r.latencyMinUs() <= r.latencyMedianUs() && r.latencyMedianUs() <= r.latencyMaxUs(), r.toString());
      assertNull(r.instructions(), "the host clock measures time, not instructions");
      assertTrue(r.compileMs() > 0, r.toString());
    }
  }

  @Test void arenaAndFlashAreTheBuildsOwnFigures() {
    for (Executor ex : List.of(Executor.graph(), Executor.aot().interfaceApi("c").unpackedApi(true))) {
      Build b = seed.build(ex);
      Comparison.Row r = seedComparison.row("digits_cnn_int8", ex.label(), "host");
      assertEquals(b.arenaBytes(), r.arenaBytes());
      dev.kiln.project.ProgramMemory m = b.deviceMemory();
      assertEquals(m.flash(), r.flashBytes());
      assertEquals(m.code(), r.codeBytes());
      assertEquals(m.weights(), r.weightsBytes());
      assertEquals(m.operatorParameters(), r.paramsBytes());
      assertTrue(r.weightsBytes() >= seed.weightBytes() * 9 / 10, "the int8 weights are in flash: " + r);
    }
  }

  @Test void aFloatModelAgainstAnotherRunAndAgainstItsSamples() {
    Model fp = Kiln.load(ReferenceModels.shared("tflite", "digits_cnn_float").modelFile());
    Comparison c = Kiln.compare(fp).executors(Executor.graph(), Executor.aot(), Executor.aot().interfaceApi("c").unpackedApi(true))
        .against(Executor.graph(), Device.host()).runs(0).run();
    assertEquals(3, c.rows().size());
    for (Comparison.Row r : c.rows()) {
      assertEquals("graph on host", r.reference());
      assertEquals(Boolean.TRUE, r.referenceMatch(), c.toString());
      assertEquals(1.0, r.top1Agreement());
      assertNull(r.maxDiffSteps(), "float outputs have no quantization steps");
      assertNull(r.latencyMedianUs(), "runs(0): no timing");
    }
    Comparison samples = Kiln.compare(fp).executors(Executor.aot()).runs(0).run();
    Comparison.Row r = samples.rows().get(0);
    assertEquals(Boolean.TRUE, r.referenceMatch(), samples.toString());
    assertTrue(r.maxAbsDiff() >= 0 && r.maxAbsDiff() < 1e-5, "float32 within the project tolerance: " + r.maxAbsDiff());
  }

  @Test void aWrongReferenceIsAMismatchInStepsAndRealUnitsNamingTheSet() {
    Path dir = seedFile.getParent();
    Tensor in0 = Tensor.load(dir.resolve("sample0_in0.npy"));
    Tensor out0 = Tensor.load(dir.resolve("sample0_out0.npy"));
    byte[] off = out0.bytes();
    off[3] = (byte) (off[3] + 2); // two quantization steps away at class 3
    Tensor wrong = Tensor.of(out0.dtype(), out0.shape(), off);
    Comparison c = Kiln.compare(seed).executors(Executor.aot().interfaceApi("c").unpackedApi(true)).runs(0)
        .inputs(InputSet.of("right", in0).expecting(out0), InputSet.of("wrong", in0).expecting(wrong)).run();
    Comparison.Row r = c.rows().get(0);
    assertFalse(c.allMatch());
    assertEquals("given", r.reference());
    assertEquals(Boolean.FALSE, r.referenceMatch());
    assertTrue(r.mismatch().startsWith("wrong: output 0: 1 of 10 values differ, first at 3"), r.mismatch());
    assertEquals(2L, r.maxDiffSteps());
    assertEquals(2 * seed.outputs().get(0).scale(), r.maxAbsDiff(), 1e-9);
    assertEquals(Boolean.TRUE, r.inputs().get(0).match());
    assertEquals(Boolean.FALSE, r.inputs().get(1).match());
    assertTrue(c.toString().contains("digits_cnn_int8 / aot-c-unpacked / host: differs from given: wrong: output 0"), c.toString());
    assertEquals(1, c.mismatches().size());
    // one step is tolerated by Tolerance.steps(2), not by the project's rule
    Comparison loose = Kiln.compare(seed).executors(Executor.aot().interfaceApi("c").unpackedApi(true)).runs(0)
        .inputs(InputSet.of("wrong", in0).expecting(wrong)).tolerance(Tolerance.steps(2)).run();
    assertTrue(loose.allMatch(), loose.toString());
  }

  @Test void everyExportFormatParsesBackToTheSameRows() throws Exception {
    Comparison c = seedComparison;
    // JSON
    JsonNode json = new ObjectMapper().readTree(c.save(temp.resolve("c.json")).toFile());
    assertEquals(2, json.get("rows").size());
    assertTrue(json.get("all_match").asBoolean());
    for (int i = 0; i < 2; i++) {
      JsonNode o = json.get("rows").get(i);
      Comparison.Row r = c.rows().get(i);
      assertEquals(r.model(), o.get("model").asText());
      assertEquals(r.executor(), o.get("executor").asText());
      assertEquals(r.device(), o.get("device").asText());
      assertTrue(o.get("reference_match").asBoolean());
      assertEquals(0.0, o.get("max_abs_diff").asDouble());
      assertEquals(r.latencyMedianUs(), o.get("latency_us").asDouble());
      assertEquals(r.arenaBytes().intValue(), o.get("arena_bytes").asInt());
      assertEquals(r.flashBytes().longValue(), o.get("flash_bytes").asLong());
      assertTrue(o.get("instructions").isNull());
      assertEquals(3, o.get("inputs").size());
      List<String> keys = new ArrayList<>();
      o.fieldNames().forEachRemaining(keys::add);
      assertEquals(Comparison.COLUMNS, keys.subList(0, Comparison.COLUMNS.size()));
    }
    // CSV
    List<String> lines = Files.readAllLines(c.save(temp.resolve("c.csv")));
    assertEquals(3, lines.size());
    assertEquals(String.join(",", Comparison.COLUMNS), lines.get(0));
    for (int i = 0; i < 2; i++) {
      String[] cells = lines.get(i + 1).split(",", -1);
      assertEquals(Comparison.COLUMNS.size(), cells.length, lines.get(i + 1));
      Map<String, Object> flat = Comparison.flat(c.rows().get(i));
      for (int k = 0; k < cells.length; k++) {
        Object v = flat.get(Comparison.COLUMNS.get(k));
        assertEquals(v == null ? "" : v.toString(), cells[k], Comparison.COLUMNS.get(k));
      }
    }
    // Markdown
    String md = Files.readString(c.save(temp.resolve("c.md")));
    List<String> table = md.lines().filter(l -> l.startsWith("|")).toList();
    assertEquals(4, table.size(), md);
    assertEquals(ComparisonFormats.HEADER, cellsOf(table.get(0)));
    for (int i = 0; i < 2; i++) assertEquals(ComparisonFormats.cells(c.rows().get(i)), cellsOf(table.get(i + 2)));
    // HTML: well-formed, self-contained, the table, charts in SVG and in CSS, light and dark
    String html = Files.readString(c.save(temp.resolve("c.html")));
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
    Document doc = f.newDocumentBuilder().parse(new InputSource(new StringReader(html)));
    NodeList trs = doc.getElementsByTagName("tr");
    assertEquals(3, trs.getLength());
    Element first = (Element) trs.item(1);
    NodeList tds = first.getElementsByTagName("td");
    assertEquals("digits_cnn_int8", tds.item(0).getTextContent());
    assertEquals("graph", tds.item(1).getTextContent());
    assertEquals("yes", tds.item(3).getTextContent());
    assertEquals(1, doc.getElementsByTagName("svg").getLength());
    assertEquals(2 + 2 * 4, doc.getElementsByTagName("rect").getLength(), "two latency bars and two four-part flash bars");
    assertTrue(html.contains("@media (prefers-color-scheme: dark)") && html.contains("var(--jp-layout-color0, #ffffff)"));
    assertTrue(count(html, "class=\"kiln-bar\"") == 4, "a CSS latency bar and flash bar per row");
    assertFalse(html.replace("http://www.w3.org/", "").contains("http://"), "nothing fetched");
    assertFalse(html.contains("https://") || html.contains("src=") || html.contains("<link"), "nothing fetched");
  }

  @Test void onAnEmulatedBoardARowCountsInstructionsExactlyBesideTheHostRow() {
    Comparison c = Kiln.compare(seed).executors(Executor.aot().interfaceApi("c").unpackedApi(true))
        .on(Device.host(), Device.qemu("mps2-an386")).runs(3).run();
    assertTrue(c.allMatch(), c.toString());
    Comparison.Row board = c.row("digits_cnn_int8", "aot-c-unpacked", "qemu:mps2-an386");
    Comparison.Row host = c.row("digits_cnn_int8", "aot-c-unpacked", "host");
    assertTrue(board.instructions() > 100_000 && board.instructions() < 5_000_000, board.toString());
    assertNull(host.instructions());
    assertEquals(host.arenaBytes(), board.arenaBytes(), "one build, one memory plan");
    assertEquals(host.weightsBytes(), board.weightsBytes(), "the same weights in both programs");
    // each program's flash is its own (read from its ELF): both hold the weights, and neither is the other's figure
    assertTrue(board.flashBytes() > board.weightsBytes() && host.flashBytes() > host.weightsBytes(), c.toString());
    assertNotEquals(host.flashBytes(), board.flashBytes(), "two programs, two ELFs: " + c);
    // the same figure again: QEMU's -icount makes it exact
    Comparison again = Kiln.compare(seed).executors(Executor.aot().interfaceApi("c").unpackedApi(true)).on(Device.qemu("mps2-an386"))
        .runs(1).run();
    assertEquals(board.instructions(), again.rows().get(0).instructions());
    assertTrue(c.chartSvg().contains("qemu:mps2-an386"));
  }

  @Test void aRowThatCannotRunIsKeptWithItsErrorAndTheOthersStillRun() throws Exception {
    int port;
    try (var s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    Comparison c = Kiln.compare(seed).executors(Executor.aot()).on(Device.host(), Device.tcp("127.0.0.1", port)).runs(0).run();
    Comparison.Row host = c.row("digits_cnn_int8", "aot-packed", "host");
    Comparison.Row dead = c.row("digits_cnn_int8", "aot-packed", "tcp:127.0.0.1:" + port);
    assertEquals(Boolean.TRUE, host.referenceMatch());
    assertTrue(dead.error().startsWith("could not open a session with tcp 127.0.0.1:" + port), dead.error());
    assertNull(dead.referenceMatch());
    assertEquals(host.arenaBytes(), dead.arenaBytes(), "what the build knows is still there");
    assertFalse(c.allMatch());
    assertEquals(List.of(dead), c.mismatches());
    assertTrue(c.toString().contains("error"), c.toString());
    JsonNode json = new ObjectMapper().readTree(c.toJson());
    assertEquals(dead.error(), json.get("rows").get(1).get("error").asText());
    assertFalse(json.get("all_match").asBoolean());
  }

  @Test void anInterruptedThreadRunsNoFurtherRows() {
    Thread.currentThread().interrupt();
    try {
      KilnException e = assertThrows(KilnException.class, () -> Kiln.compare(seed).runs(0).run());
      assertEquals("Kiln.compare(...).run() was interrupted after 0 rows; run it again for the whole comparison", e.getMessage());
    } finally {
      Thread.interrupted();
    }
  }

  @Test void namesAndMistakes() {
    for (String label : List.of("graph", "aot-packed", "aot-c", "aot-c-unpacked", "aot-packed-unpacked")) {
      assertEquals(label, Executor.parse(label).label());
    }
    assertEquals("aot-packed", Executor.parse("aot").label());
    KilnException e = assertThrows(KilnException.class, () -> Executor.parse("aot-x"));
    assertTrue(e.getMessage().contains("choose graph, aot-c-unpacked"), e.getMessage());
    e = assertThrows(KilnException.class, () -> seedComparison.save("c.txt"));
    assertEquals("cannot tell the format of 'c.txt': name the file .html, .md, .csv or .json", e.getMessage());
    e = assertThrows(KilnException.class, () -> Kiln.compare(seed).executors(Executor.aot()).against(Executor.graph(), Device.host()).run());
    assertTrue(e.getMessage().contains("is compared on [aot-packed] only; add graph to executors(...)"), e.getMessage());
    e = assertThrows(KilnException.class, () -> seedComparison.row("digits_cnn_int8", "graph", "qemu:mps2-an386"));
    assertTrue(e.getMessage().contains("digits_cnn_int8 / aot-c-unpacked / host"), e.getMessage());
    assertThrows(KilnException.class, () -> Kiln.compare(seed).runs(-1));
    assertNotNull(Kiln.compare(seed).toString());
  }

  @Test void buildsMadeAlreadyAreComparedAsTheyAre() {
    Build graph = seed.build(Executor.graph());
    Build aot = seed.build(Executor.aot().interfaceApi("c").unpackedApi(true));
    Comparison c = Kiln.compare(seed).executors(graph, aot).runs(0).run();
    assertEquals(List.of("graph", "aot-c-unpacked"), c.rows().stream().map(Comparison.Row::executor).toList());
    assertEquals(graph.compileMillis(), c.rows().get(0).compileMs());
    assertTrue(c.allMatch(), c.toString());
  }

  private static List<String> cellsOf(String mdLine) {
    String inner = mdLine.substring(1, mdLine.length() - 1);
    List<String> out = new ArrayList<>();
    for (String s : inner.split("(?<!\\\\)\\|")) out.add(s.trim().replace("\\|", "|"));
    return out;
  }

  private static int count(String s, String needle) {
    int n = 0;
    for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) n++;
    return n;
  }
}
