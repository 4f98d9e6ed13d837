package dev.kiln.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CNamesTest {
  @Test
  void unsafeCharactersBecomeUnderscoresAsMicroTvmSpellsThem() {
    assertEquals("predict_images_0", CNames.sanitize("predict_images:0"));
    assertEquals("a_b_c_d", CNames.sanitize("a.b/c-d"));
    assertEquals("serving_default_input_1_0", CNames.sanitize("serving_default_input_1:0"));
  }

  @Test
  void leadingDigitsAndKeywordsStillGiveLegalIdentifiers() {
    assertEquals("_0abc", CNames.sanitize("0abc"));
    assertEquals("int_", CNames.sanitize("int"));
    assertEquals("_", CNames.sanitize(""));
    assertEquals("__", CNames.sanitize("日本"), "one underscore per non-ASCII character");
  }

  @Test
  void aNameThatIsAlreadyLegalKeepsItsSpellingAndTheSanitizedOneMovesAside() {
    assertEquals(List.of("input_0_1", "input_0"), CNames.allocate(List.of("input:0", "input_0")));
    assertEquals(List.of("input_0", "input_0_1"), CNames.allocate(List.of("input_0", "input:0")));
  }

  @Test
  void manyCollisionsGetDistinctDeterministicSuffixes() {
    List<String> names = CNames.allocate(List.of("a:0", "a/0", "a-0", "a_0"));
    assertEquals(List.of("a_0_1", "a_0_2", "a_0_3", "a_0"), names);
    assertEquals(names, CNames.allocate(List.of("a:0", "a/0", "a-0", "a_0")));
  }

  @Test
  void identifierPartsAllowKeywordsButNotPunctuation() {
    assertTrue(CNames.isIdentifierPart("default"));
    assertFalse(CNames.isIdentifierPart("my-model"));
    assertFalse(CNames.isIdentifierPart("9lives"));
  }

  @Test
  void bothNamesResolveInAGraphWhoseInputsCollideAfterSanitizing() {
    Graph.Builder b = Graph.builder("collide", "test");
    int x = b.addTensor(Tensor.builder("input:0").shape(1, 4).dtype(DType.FLOAT32));
    int y = b.addTensor(Tensor.builder("input_0").shape(1, 4).dtype(DType.FLOAT32));
    int z = b.addTensor(Tensor.builder("sum").shape(1, 4).dtype(DType.FLOAT32));
    b.addOp(OpType.ADD, new int[] {x, y}, new int[] {z}, new Options.Elementwise(Activation.NONE));
    Graph g = b.inputs(x, y).outputs(z).build();
    assertEquals("input_0_1", g.inputs().get(0).cName());
    assertEquals("input_0", g.inputs().get(1).cName());
    assertEquals("input:0", g.find("input:0").orElseThrow().name());
    assertEquals("input_0", g.find("input_0").orElseThrow().name(), "the exact model name wins over a C name");
    assertEquals("input:0", g.find("input_0_1").orElseThrow().name());
  }
}
