package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Control-flow models Kiln refuses (resources/control-bad, made by make_ops_control.py): one line
 * naming the operator, its index, its subgraph and what would make it work.
 */
class ControlFlowRefusalTest {
  private static final Path BAD = Path.of("src/test/resources/control-bad").toAbsolutePath();

  private static String refusal(String file) {
    Path p = BAD.resolve(file);
    KilnException e = assertThrows(KilnException.class, () -> Kiln.load(p).build(dev.kiln.api.Executor.aot()));
    String m = e.getMessage();
    return m.startsWith(p + ": ") ? m.substring(p.toString().length() + 2) : m;
  }

  @Test
  void aWhileWhoseBodyGrowsItsValueIsRefusedNamingTheLoopAndTheShapes() {
    // the body's concat is marked dynamic (Keras' shape signature): the loop value's shape is found to change
    String m = refusal("while_growing.tflite");
    assertTrue(m.startsWith("subgraph 0 operator #0 (WHILE): loop value 1 enters as tensor 'x' (index 0) float32 [1,4] but the"
        + " body subgraph 2 returns while/concat"), m);
    assertTrue(m.endsWith("keep the loop's tensors at a fixed size"), m);
    assertEquals(1, m.lines().count(), m);
  }

  @Test
  void anUnsupportedOperatorInALoopBodyIsRefusedNamingItsSubgraph() {
    String m = refusal("while_body_unsupported.tflite");
    String expected = "subgraph 2 (the body of WHILE operator #0 in subgraph 0): operator #1 BUCKETIZE (builtin code 147) is not"
        + " supported by Kiln: inputs ['while_body_arg1'] -> outputs ['while/Bucketize']. Supported operators: ";
    assertEquals(expected, m.substring(0, Math.min(m.length(), expected.length())), m);
    assertEquals(-1, m.indexOf('\n'), "one line");
  }
}
