package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The full-integer LSTM forms Kiln does not compile (resources/bad-lstm8, made by make_ops_lstm8.py) are refused in
 * one line that names the operator, its index and what would make it work.
 */
class LstmRefusalTest {
  private static final Path BAD = Paths.get("src/test/resources/bad-lstm8");

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "peephole_projection_wide, combines peephole weights with a projection wider than the cells (6 > 4)",
      "int8x8_8, has 12 intermediate tensors",
      "no_intermediates, has 0 intermediate tensors"})
  void refusedInOneLine(String file, String reason) {
    Exception e = assertThrows(Exception.class,
        () -> Kiln.load(BAD.resolve(file + ".tflite")).build(Executor.aot().interfaceApi("c").unpackedApi(true)));
    String m = e.getMessage();
    assertTrue(m.contains("UNIDIRECTIONAL_SEQUENCE_LSTM op #0"), m);
    assertTrue(m.contains(reason), m);
    assertTrue(!m.contains("\n"), "one line: " + m);
  }
}
