package dev.kiln.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MemoryPlanTest {
  @Test
  void aChainReusesMemoryAndReachesTheLowerBound() {
    // a -> b -> c -> d: only neighbours are live together.
    List<MemoryPlan.Buffer> chain = List.of(
        new MemoryPlan.Buffer("a", 1008, 0, 1), new MemoryPlan.Buffer("b", 608, 1, 2),
        new MemoryPlan.Buffer("c", 896, 2, 3), new MemoryPlan.Buffer("d", 112, 3, 4));
    MemoryPlan plan = MemoryPlan.plan(chain);
    assertEquals(1616, plan.lowerBoundBytes());
    assertEquals(1616, plan.arenaBytes());
  }

  @Test
  void buffersLiveAtTheSameTimeNeverOverlap() {
    Random r = new Random(7);
    for (int trial = 0; trial < 200; trial++) {
      List<MemoryPlan.Buffer> buffers = new java.util.ArrayList<>();
      for (int i = 0; i < 12; i++) {
        int first = r.nextInt(10);
        buffers.add(new MemoryPlan.Buffer("t" + i, 1 + r.nextInt(500), first, first + r.nextInt(4)));
      }
      MemoryPlan plan = MemoryPlan.plan(buffers);
      for (MemoryPlan.Placement p : plan.placements()) {
        assertEquals(0, p.offset() % MemoryPlan.ALIGNMENT, "aligned");
        assertTrue(p.end() <= plan.arenaBytes());
        for (MemoryPlan.Placement q : plan.placements()) {
          if (p == q || !p.buffer().overlapsInTime(q.buffer())) continue;
          assertTrue(p.end() <= q.offset() || q.end() <= p.offset(), p + " overlaps " + q);
        }
      }
      assertTrue(plan.arenaBytes() >= plan.lowerBoundBytes());
      assertTrue(plan.arenaBytes() <= plan.greedyBytes());
    }
  }

  @Test
  void anEmptyModelNeedsNoArena() {
    assertEquals(0, MemoryPlan.plan(List.of()).arenaBytes());
  }
}
