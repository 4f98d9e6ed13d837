package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    assertEquals("subgraph 0 operator #0 (WHILE): loop value 1: tensor 'Identity' (index 3) has a dynamic dimension 1 (shape"
        + " signature [1,-1], shape [1,1]); Kiln compiles static shapes only, with at most a dynamic batch of 1; a loop value"
        + " whose shape changes from one iteration to the next needs run-time allocation, so keep every loop value at one"
        + " fixed shape (write into a preallocated tensor instead of growing one)", refusal("while_growing.tflite"));
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
