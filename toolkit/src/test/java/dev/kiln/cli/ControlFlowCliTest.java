package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The command line on control-flow models (resources/ops-control). */
class ControlFlowCliTest {
  private static final Path CONTROL = Path.of("src/test/resources/ops-control").toAbsolutePath();

  @Test
  void verifyCarriesAStatefulModelsStateFromSampleToSampleOnEveryPath() {
    CommandLineTest.Result r = CommandLineTest.kiln("verify", CONTROL.resolve("gru_stateful_float/model.tflite").toString());
    assertEquals(0, r.status(), r.out() + r.err());
    assertTrue(r.out().contains("3 sample(s), all outputs match the reference"), r.out());
    assertEquals(9, r.out().split("\n  MATCH", -1).length - 1, "3 samples x (AoT C, graph, AoT over RPC): " + r.out());
  }

  @Test
  void infoListsTheSubgraphsEachControlFlowOperatorRuns() {
    CommandLineTest.Result r = CommandLineTest.kiln("info", CONTROL.resolve("lstm_kws_float/model.tflite").toString());
    assertEquals(0, r.status(), r.err());
    assertTrue(r.out().contains("  op #1 WHILE runs subgraph 1 (3 ops), subgraph 2 (19 ops)\n"), r.out());
  }
}
