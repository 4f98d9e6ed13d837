package dev.kiln.frontend.tflite;

import static dev.kiln.frontend.tflite.TestModel.FLOAT32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.tflite.FlatBufferWriter.Obj;
import org.junit.jupiter.api.Test;

/** Malformed control flow in hand-built models: each refused with one line naming the operator and subgraph. */
class ControlFlowDecodeTest {
  private static final int WHILE = 119;
  private static final int CALL_ONCE = 129;
  private static final int WHILE_OPTIONS = 93;
  private static final int CALL_ONCE_OPTIONS = 103;

  private static String error(TestModel m) {
    return assertThrows(ModelFormatException.class, () -> TfliteReader.read("m.tflite", m.bytes())).getMessage();
  }

  private static TestModel loop(int cond, int body, int extraSubgraphs) {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 4);
    int y = m.tensor("y", FLOAT32, 4);
    m.op(WHILE, new int[] {x}, new int[] {y}, WHILE_OPTIONS, new Obj().i32(0, cond).i32(1, body));
    m.io(new int[] {x}, new int[] {y});
    for (int i = 0; i < extraSubgraphs; i++) m.extraSubgraph();
    return m;
  }

  @Test
  void aWhileRunningASubgraphTheModelLacksIsRefused() {
    assertEquals("m.tflite: truncated or corrupt: subgraph 0 operator #0 (WHILE) runs subgraph 5, but the model has 3 subgraphs",
        error(loop(1, 5, 2)));
  }

  @Test
  void aWhileRunningItselfIsRefusedAsRecursion() {
    assertEquals("m.tflite: subgraph 0 runs itself through control flow (subgraphs [0]); TFLite forbids recursion",
        error(loop(0, 1, 1)));
  }

  @Test
  void aWhileWhoseCondTakesNoParametersIsRefusedWithTheCounts() {
    assertEquals("m.tflite: subgraph 0 operator #0 (WHILE) cond subgraph 1 has 0 inputs, expected 1 (one per operand of the"
        + " control-flow operator)", error(loop(1, 2, 2)));
  }

  @Test
  void aBodyReadingATensorNobodyWritesIsRefusedNamingTheSubgraphAndItsLoop() {
    TestModel m = loop(1, 2, 0);
    // cond: x -> LESS(x, x) -> c (bool); body: x -> ADD(x, ghost) -> y, where nothing writes ghost
    m.extraSubgraph(java.util.List.of(m.subgraphTensor("cx", FLOAT32, 4), m.subgraphTensor("c", 6, 1)), new int[] {0},
        new int[] {1}, java.util.List.of(m.subgraphOp(58, new int[] {0, 0}, new int[] {1})));
    m.extraSubgraph(java.util.List.of(m.subgraphTensor("bx", FLOAT32, 4), m.subgraphTensor("ghost", FLOAT32, 4),
            m.subgraphTensor("by", FLOAT32, 4)), new int[] {0}, new int[] {2},
        java.util.List.of(m.subgraphOp(0, new int[] {0, 1}, new int[] {2})));
    assertEquals("m.tflite: subgraph 2 (the body of WHILE operator #0 in subgraph 0): operator #0 (ADD) reads tensor 'ghost'"
        + " (index 1), which is not a model input, not a constant and not written by an earlier operator", error(m));
  }

  @Test
  void aVariableReadAsTwoShapesIsRefusedNamingBothReads() {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 4);
    int h = m.tensor("h", 13);
    int a = m.tensor("a", FLOAT32, 4);
    int b = m.tensor("b", FLOAT32, 2);
    m.op(142, new int[] {}, new int[] {h}, 111, new Obj().str(1, "state"));
    m.op(143, new int[] {h}, new int[] {a});
    m.op(143, new int[] {h}, new int[] {b});
    m.io(new int[] {x}, new int[] {a, b});
    assertEquals("m.tflite: resource variable '/state' is used as float32 [4] by subgraph 0 operator #1 (READ_VARIABLE)"
        + " (tensor 'a' (index 2), float32 [4]) and as float32 [2] by subgraph 0 operator #2 (READ_VARIABLE) (tensor 'b'"
        + " (index 3), float32 [2]); Kiln keeps one static buffer of one dtype and shape per variable", error(m));
  }

  @Test
  void aHandleNoVarHandleWritesIsRefused() {
    TestModel m = new TestModel();
    int h = m.tensor("h", 13);
    int a = m.tensor("a", FLOAT32, 4);
    m.op(143, new int[] {h}, new int[] {a});
    m.io(new int[] {}, new int[] {a});
    assertEquals("m.tflite: subgraph 0 operator #0 (READ_VARIABLE) uses resource handle tensor 'h' (index 0), which no"
        + " VAR_HANDLE of subgraph 0 writes (it comes from another subgraph); Kiln resolves a resource variable where a"
        + " VAR_HANDLE names it, so call VAR_HANDLE in the subgraph that reads or assigns the variable", error(m));
  }

  @Test
  void aCallOnceWithOperandsIsRefused() {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 4);
    int y = m.tensor("y", FLOAT32, 4);
    m.op(CALL_ONCE, new int[] {x}, new int[] {}, CALL_ONCE_OPTIONS, new Obj().i32(0, 1));
    m.op(0, new int[] {x, x}, new int[] {y}); // ADD
    m.io(new int[] {x}, new int[] {y}).extraSubgraph();
    assertEquals("m.tflite: subgraph 0 operator #0 (CALL_ONCE) and its init subgraph 1 must have no inputs and no outputs (it"
        + " initializes resource variables)", error(m));
  }
}
