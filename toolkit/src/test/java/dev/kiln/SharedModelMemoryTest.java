package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Build;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.compile.MemoryPlan;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The static arena of every shared model is within 2% of the liveness lower bound. */
class SharedModelMemoryTest {
  static Stream<Case> sharedModels() { return ReferenceModels.shared("tflite").stream(); }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sharedModels")
  void theArenaIsWithinTwoPercentOfTheLowerBound(Case c) {
    Build build = Kiln.load(c.modelFile()).build(Executor.aot().interfaceApi("c").unpackedApi(true));
    MemoryPlan plan = build.memoryPlan();
    assertTrue(plan.arenaBytes() <= 1.02 * plan.lowerBoundBytes() + MemoryPlan.ALIGNMENT, c + ": " + plan);
    // With inputs and outputs in the arena too, compare with the manifest's own liveness figure
    // (which has no kernel scratch memory, so add ours).
    int scratch = plan.placements().stream().filter(p -> p.buffer().name().startsWith("scratch_")).mapToInt(p -> p.buffer().bytes()).sum();
    long peak = c.manifest().path("tensors").path("peak_live_activation_bytes").asLong();
    MemoryPlan withIo = build.compiled().memoryPlanWithIo();
    assertTrue(withIo.arenaBytes() <= 1.02 * (peak + scratch) + MemoryPlan.ALIGNMENT,
        c + ": with I/O " + withIo + " vs manifest peak " + peak + " + scratch " + scratch);
  }
}
