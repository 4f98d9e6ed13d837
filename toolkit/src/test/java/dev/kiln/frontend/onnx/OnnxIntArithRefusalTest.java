package dev.kiln.frontend.onnx;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.frontend.ModelFormatException;
import java.nio.file.Path;
import java.util.Iterator;
import org.junit.jupiter.api.Test;

/**
 * What the integer arithmetic lowering cannot take is refused in one line naming the node and the way out: float Mod
 * with fmod=0 before opset 28, and QuantizeLinear's codes fed straight into integer Add (resources/onnx-intarith-refused,
 * made by make_onnx_intarith.py).
 */
class OnnxIntArithRefusalTest {
  @Test void refusedInOneLineSayingWhatWorks() throws Exception {
    Path dir = Path.of("src/test/resources/onnx-intarith-refused");
    JsonNode expected = new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
    int seen = 0;
    for (Iterator<String> it = expected.fieldNames(); it.hasNext(); seen++) {
      String name = it.next();
      String m = assertThrows(ModelFormatException.class, () -> OnnxReader.read(dir.resolve(name + ".onnx")), name).getMessage();
      assertTrue(m.contains(expected.get(name).asText()), name + ": " + m);
      assertFalse(m.contains("\n"), name + ": " + m);
      assertTrue(m.contains("node "), name + " names the node: " + m);
    }
    assertTrue(seen >= 2, "expected.json lists the refused models");
  }
}
