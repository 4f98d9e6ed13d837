package dev.kiln.kernel.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class CellTest {
  @Test
  void lineMagicsAndCodeAlternateInOrder() {
    Cell cell = Cell.parse("%jars lib/*.jar\nvar x = 1;\n  %maven a:b:1 c:d:2\nx", code -> false);
    assertEquals(List.of(
        new Cell.LineMagic("jars", List.of("lib/*.jar"), "lib/*.jar", 0, 0),
        new Cell.Code("var x = 1;\n", 16, 1),
        new Cell.LineMagic("maven", List.of("a:b:1", "c:d:2"), "a:b:1 c:d:2", 27, 2),
        new Cell.Code("x", 48, 3)), cell.parts());
  }

  @Test
  void aCellMagicTakesTheWholeBody() {
    Cell cell = Cell.parse("%%time 3\nint a = 1;\na", code -> false);
    assertEquals(List.of(new Cell.CellMagic("time", List.of("3"), "int a = 1;\na", 0, 0, 9, 1)), cell.parts());
  }

  @Test
  void aPercentLineInsideUnfinishedJavaIsJava() {
    Cell cell = Cell.parse("String s = \"\"\"\n%x\n\"\"\";", code -> code.contains("\"\"\"") && !code.contains("\"\"\";"));
    assertEquals(List.of(new Cell.Code("String s = \"\"\"\n%x\n\"\"\";", 0, 0)), cell.parts());
  }

  @Test
  void moduloAtTheStartOfALineAfterAnOpenExpressionIsJava() {
    Cell cell = Cell.parse("int r = 7\n%2;", code -> code.strip().endsWith("7"));
    assertEquals(1, cell.parts().size());
  }
}
