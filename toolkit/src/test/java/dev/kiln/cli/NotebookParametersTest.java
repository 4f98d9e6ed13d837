package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.api.KilnException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parameters-cell convention behind {@code kiln notebook -p} and {@code notebooks/run-seed -p}. */
class NotebookParametersTest {
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path temp;

  static ObjectNode notebook(boolean withParameters) throws Exception {
    String params = "{\"cell_type\": \"code\", \"metadata\": {\"tags\": [\"parameters\"]}, \"execution_count\": null, \"outputs\": [],"
        + " \"source\": [\"String model = \\\"../shared/m.tflite\\\";\\n\", \"int runs = 10;\\n\", \"double tol = 1e-5;\\n\","
        + " \"boolean board = false;\\n\", \"var device = Device.host();\\n\", \"var label = \\\"x\\\";\"]}";
    String cells = "[{\"cell_type\": \"markdown\", \"metadata\": {}, \"source\": [\"# T\"]},"
        + (withParameters ? params + "," : "")
        + "{\"cell_type\": \"code\", \"metadata\": {}, \"execution_count\": null, \"outputs\": [], \"source\": [\"runs\"]}]";
    return (ObjectNode) JSON.readTree("{\"nbformat\": 4, \"nbformat_minor\": 5, \"metadata\": {}, \"cells\": " + cells + "}");
  }

  static String source(JsonNode cell) { return NotebookParameters.source(cell); }

  @Test void valuesAreDeclaredAgainAfterTheParametersCellAsLiteralsOfTheirDeclaredTypes() throws Exception {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("model", "a \"b\"\\c.tflite");
    p.put("runs", "20");
    p.put("tol", "0.5");
    p.put("board", "true");
    p.put("device", "Device.qemu(\"mps2-an386\")");
    p.put("label", "y");
    p.put("fresh", "7");
    p.put("freshText", "hello");
    ObjectNode nb = notebook(true);
    ObjectNode out = NotebookParameters.inject(nb, p);
    assertEquals(3, nb.get("cells").size(), "the input is not changed");
    assertEquals(4, out.get("cells").size());
    JsonNode injected = out.get("cells").get(2);
    assertTrue(NotebookParameters.tagged(injected, "injected-parameters"), injected.toString());
    assertEquals("injected-parameters", injected.path("id").asText(), "nbformat 4.5 cells have ids");
    assertEquals("// Injected parameters (kiln notebook -p)\n"
        + "String model = \"a \\\"b\\\"\\\\c.tflite\";\n"
        + "int runs = 20;\n"
        + "double tol = 0.5;\n"
        + "boolean board = true;\n"
        + "var device = Device.qemu(\"mps2-an386\");\n"
        + "var label = \"y\";\n"
        + "var fresh = 7;\n"
        + "var freshText = \"hello\";", source(injected));
    assertEquals("runs", source(out.get("cells").get(3)));

    ObjectNode again = NotebookParameters.inject(out, Map.of("runs", "3"));
    assertEquals(4, again.get("cells").size(), "an earlier injected cell is replaced, not stacked");
    assertTrue(source(again.get("cells").get(2)).endsWith("int runs = 3;"));
  }

  @Test void withoutAParametersCellTheInjectedCellComesFirst() throws Exception {
    ObjectNode out = NotebookParameters.inject(notebook(false), Map.of("runs", "4"));
    assertTrue(NotebookParameters.tagged(out.get("cells").get(0), "injected-parameters"));
    assertEquals("// Injected parameters (kiln notebook -p)\nvar runs = 4;", source(out.get("cells").get(0)));
  }

  @Test void badParametersAreOneClearError() throws Exception {
    KilnException e = assertThrows(KilnException.class, () -> NotebookParameters.parse(List.of("runs")));
    assertTrue(e.getMessage().contains("'runs' is not NAME=VALUE"), e.getMessage());
    assertThrows(KilnException.class, () -> NotebookParameters.parse(List.of("2x=1")));
    e = assertThrows(KilnException.class, () -> NotebookParameters.inject(notebook(true), Map.of("runs", "many")));
    assertTrue(e.getMessage().contains("runs is declared int") && e.getMessage().contains("'many'"), e.getMessage());
    assertEquals(Map.of("a", "b=c"), NotebookParameters.parse(List.of("a=b=c")));
  }

  @Test void kilnNotebookInjectOnlyWritesTheInjectedNotebook() throws Exception {
    Path nb = temp.resolve("t.ipynb");
    Files.writeString(nb, notebook(true).toString());
    Path out = temp.resolve("out/t.out.ipynb");
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    int code = Main.run(new String[] {"notebook", nb.toString(), "-p", "runs=12", "--inject-only", "-o", out.toString()},
        new PrintWriter(o), new PrintWriter(e));
    assertEquals(0, code, e.toString());
    assertTrue(o.toString().contains("injected notebook: " + out.toAbsolutePath()), o.toString());
    JsonNode written = JSON.readTree(out.toFile());
    assertTrue(source(written.get("cells").get(2)).endsWith("int runs = 12;"));
    code = Main.run(new String[] {"notebook", temp.resolve("none.ipynb").toString()}, new PrintWriter(o), new PrintWriter(e));
    assertEquals(1, code);
    assertTrue(e.toString().contains("kiln: error: no such notebook"), e.toString());
  }
}
