package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.api.Comparison;
import dev.kiln.testing.ReferenceModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln compare} as a script calls it: the table on stdout, the files -o names (each parsed
 * back), exit 0 when every row matches the sample outputs and 1 when one does not.
 */
class CompareCommandLineTest {
  @TempDir Path tmp;

  @Test
  void compareRunsEveryExecutorOnTheSamplesPrintsTheTableAndWritesEveryFormat() throws Exception {
    Path seed = ReferenceModels.shared("tflite", "digits_cnn_int8").modelFile();
    Path fp = ReferenceModels.shared("tflite", "digits_cnn_float").modelFile();
    CommandLineTest.Result r = CommandLineTest.kiln("compare", seed.toString(), fp.toString(), "--executor", "graph", "--executor",
        "aot-c-unpacked", "--runs", "3", "-o", tmp.resolve("r.json").toString(), "-o", tmp.resolve("r.csv").toString(),
        "-o", tmp.resolve("r.md").toString(), "-o", tmp.resolve("r.html").toString());
    assertEquals(0, r.status(), r.out() + r.err());
    assertTrue(r.out().startsWith("Kiln comparison: 4 rows (2 models x 2 executors x 1 device), 3 input sets, 3 timed runs each; "
        + "every row matches its reference"), r.out());
    List<String> rows = r.out().lines().filter(l -> l.startsWith("digits_cnn_")).toList();
    assertEquals(4, rows.size(), r.out());
    for (String row : rows) assertTrue(row.matches("digits_cnn_(int8|float) +(graph|aot-c-unpacked) +host +yes +0 .*"), row);
    JsonNode json = new ObjectMapper().readTree(tmp.resolve("r.json").toFile());
    assertEquals(4, json.get("rows").size());
    for (JsonNode o : json.get("rows")) {
      assertTrue(o.get("reference_match").asBoolean(), o.toString());
      assertEquals(0.0, o.get("max_abs_diff").asDouble());
      assertTrue(o.get("latency_us").asDouble() > 0 && o.get("arena_bytes").asInt() > 0 && o.get("flash_bytes").asLong() > 0, o.toString());
    }
    assertEquals(640, json.get("rows").get(0).get("arena_bytes").asInt());
    assertEquals(2560, json.get("rows").get(2).get("arena_bytes").asInt());
    List<String> csv = Files.readAllLines(tmp.resolve("r.csv"));
    assertEquals(String.join(",", Comparison.COLUMNS), csv.get(0));
    assertEquals(5, csv.size());
    assertTrue(csv.get(3).startsWith("digits_cnn_float,graph,host,samples,true,,0.0,,1.0,"), csv.get(3));
    assertEquals(6, Files.readAllLines(tmp.resolve("r.md")).stream().filter(l -> l.startsWith("|")).count());
    String html = Files.readString(tmp.resolve("r.html"));
    assertTrue(html.startsWith("<!DOCTYPE html>") && html.contains("<svg") && html.contains("prefers-color-scheme: dark"));
    for (String f : List.of("r.json", "r.csv", "r.md", "r.html")) assertTrue(r.out().contains("wrote " + tmp.resolve(f)), r.out());
  }

  @Test
  void aRowThatDiffersFromItsReferenceExitsOneAndSaysWhich() throws Exception {
    // a model folder whose sample output is off by one step: the comparison must say so and fail
    Path src = ReferenceModels.shared("tflite", "digits_cnn_int8").folder();
    Path dir = Files.createDirectories(tmp.resolve("digits"));
    Files.copy(src.resolve("digits_cnn_int8.tflite"), dir.resolve("digits_cnn_int8.tflite"));
    Files.copy(src.resolve("sample0_in0.npy"), dir.resolve("sample0_in0.npy"));
    byte[] out = Files.readAllBytes(src.resolve("sample0_out0.npy"));
    out[out.length - 1]++;
    Files.write(dir.resolve("sample0_out0.npy"), out);
    CommandLineTest.Result r = CommandLineTest.kiln("compare", dir.resolve("digits_cnn_int8.tflite").toString(), "--executor", "aot-c-unpacked",
        "--runs", "0");
    assertEquals(1, r.status(), r.out() + r.err());
    assertTrue(r.out().contains("digits_cnn_int8 / aot-c-unpacked / host: differs from samples: sample0: output 0: 1 of 10 values differ, first at 9"),
        r.out());
    assertEquals("kiln: compare: 1 of 1 rows failed or differ from their reference\n", r.err());
    CommandLineTest.Result loose = CommandLineTest.kiln("compare", dir.resolve("digits_cnn_int8.tflite").toString(), "--executor",
        "aot-c-unpacked", "--runs", "0", "--tolerance", "steps:1");
    assertEquals(0, loose.status(), loose.out() + loose.err());
  }

  @Test
  void mistakesAreOneLineBeforeAnyWork() {
    Path seed = ReferenceModels.shared("tflite", "digits_cnn_int8").modelFile();
    CommandLineTest.Result r = CommandLineTest.kiln("compare", seed.toString(), "-o", tmp.resolve("r.txt").toString());
    assertEquals(1, r.status());
    assertEquals("kiln: error: -o " + tmp.resolve("r.txt") + ": name the file .html, .md, .csv or .json\n", r.err());
    r = CommandLineTest.kiln("compare", seed.toString(), "--executor", "fast");
    assertEquals(1, r.status());
    assertTrue(r.err().startsWith("kiln: error: no executor named 'fast'; choose graph, aot-c-unpacked"), r.err());
    r = CommandLineTest.kiln("compare", seed.toString(), "--against", "graph");
    assertTrue(r.err().startsWith("kiln: error: --against takes EXECUTOR@DEVICE"), r.err());
    r = CommandLineTest.kiln("compare", "--help");
    assertEquals(0, r.status());
    assertFalse(r.out().isEmpty());
  }
}
