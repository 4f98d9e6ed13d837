package dev.kiln.kernel.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class HistoryTest {
  private final History history = new History();

  HistoryTest() {
    history.add(1, "var m = Kiln.load(\"a.tflite\");", "Model a");
    history.add(2, "m.inputs()", "[x]");
    history.add(3, "var m = Kiln.load(\"a.tflite\");", "Model a");
  }

  private static List<Integer> lines(List<History.Entry> entries) {
    return entries.stream().map(History.Entry::line).toList();
  }

  @Test
  void tailGivesTheLastEntries() {
    assertEquals(List.of(2, 3), lines(history.tail(2)));
    assertEquals(List.of(1, 2, 3), lines(history.tail(0)));
  }

  @Test
  void rangeStopIsExclusiveAndZeroMeansToTheEnd() {
    assertEquals(List.of(1, 2), lines(history.range(0, 1, 3)));
    assertEquals(List.of(2, 3), lines(history.range(1, 2, 0)));
    assertEquals(List.of(), lines(history.range(2, 0, 0)));
  }

  @Test
  void searchMatchesGlobsAndCanDropRepeats() {
    assertEquals(List.of(1, 3), lines(history.search("var m*", 0, false)));
    assertEquals(List.of(3), lines(history.search("var m*", 0, true)));
    assertEquals(List.of(2), lines(history.search("m.input?()", 5, false)));
  }
}
