package dev.kiln.compile;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * A static arena: every buffer gets an offset, and two buffers share bytes only if their lifetimes
 * (inclusive op-index intervals) do not overlap. The plan keeps its own lower bound (the most
 * bytes live at any one op, which no placement can beat for this op order) and the figure of a
 * single first-fit-by-size pass, so reports can show how close it came.
 */
public final class MemoryPlan {
  public static final int ALIGNMENT = 16;
  private static final int RANDOM_TRIALS = 200;

  /** A buffer to place: a name for displays, a size and the ops during which it must stay intact. */
  public record Buffer(String name, int bytes, int firstOp, int lastOp) {
    boolean overlapsInTime(Buffer o) { return firstOp <= o.lastOp && o.firstOp <= lastOp; }
  }

  /** Where a buffer landed. */
  public record Placement(Buffer buffer, int offset) {
    public int end() { return offset + buffer.bytes(); }
  }

  private final List<Placement> placements;
  private final int arenaBytes;
  private final int lowerBoundBytes;
  private final int greedyBytes;
  private final String strategy;
  private final List<String> opNames;

  private MemoryPlan(List<Placement> placements, int arenaBytes, int lowerBoundBytes, int greedyBytes, String strategy) {
    this(placements, arenaBytes, lowerBoundBytes, greedyBytes, strategy, List.of());
  }

  private MemoryPlan(List<Placement> placements, int arenaBytes, int lowerBoundBytes, int greedyBytes, String strategy,
      List<String> opNames) {
    this.placements = List.copyOf(placements);
    this.arenaBytes = arenaBytes;
    this.lowerBoundBytes = lowerBoundBytes;
    this.greedyBytes = greedyBytes;
    this.strategy = strategy;
    this.opNames = List.copyOf(opNames);
  }

  /**
   * The same plan with a name for each op index (e.g. {@code CONV_2D}), for displays: the plan itself
   * only knows indices, the graph it was made for knows the names.
   */
  public MemoryPlan withOpNames(List<String> names) {
    return new MemoryPlan(placements, arenaBytes, lowerBoundBytes, greedyBytes, strategy, names);
  }

  /** The op names given by {@link #withOpNames}, by op index; empty when none were given. */
  public List<String> opNames() { return opNames; }

  /** Plans {@code buffers} with several greedy orders and keeps the smallest arena. */
  public static MemoryPlan plan(List<Buffer> buffers) {
    List<Placement> best = null;
    String bestName = null;
    int bestSize = Integer.MAX_VALUE;
    int greedy = -1;
    for (Order order : Order.values()) {
      List<Placement> p = place(buffers, order.comparator);
      int size = arenaSize(p);
      if (order == Order.SIZE) greedy = size;
      if (size < bestSize) {
        best = p;
        bestSize = size;
        bestName = order.label;
      }
    }
    if (buffers.isEmpty()) return new MemoryPlan(List.of(), 0, 0, 0, "empty");
    int bound = lowerBound(buffers);
    // First-fit by a fixed order can be stuck above the bound where a small buffer must sit in the
    // slot a chain would use next; a few seeded random orders usually find the bound. Deterministic.
    java.util.Random random = new java.util.Random(0x6b696c6eL);
    for (int trial = 0; trial < RANDOM_TRIALS && bestSize > align(bound); trial++) {
      List<Buffer> shuffled = new ArrayList<>(buffers);
      java.util.Collections.shuffle(shuffled, random);
      List<Placement> p = place(shuffled, (a, b) -> 0);
      int size = arenaSize(p);
      if (size < bestSize) {
        best = reorder(p, buffers);
        bestSize = size;
        bestName = "first-fit in a searched order";
      }
    }
    return new MemoryPlan(best, bestSize, bound, greedy, bestName);
  }

  /** The most bytes live at any single op: no plan for this op order can use less. */
  public static int lowerBound(List<Buffer> buffers) {
    int lastOp = buffers.stream().mapToInt(Buffer::lastOp).max().orElse(-1);
    int peak = 0;
    for (int op = 0; op <= lastOp; op++) {
      int live = 0;
      for (Buffer b : buffers) if (b.firstOp() <= op && op <= b.lastOp()) live += b.bytes();
      peak = Math.max(peak, live);
    }
    return peak;
  }

  private enum Order {
    SIZE("first-fit by decreasing size", Comparator.comparingInt((Buffer b) -> -b.bytes()).thenComparingInt(Buffer::firstOp)),
    LIFETIME("first-fit by decreasing lifetime", Comparator.comparingInt((Buffer b) -> -(b.lastOp() - b.firstOp())).thenComparingInt(b -> -b.bytes())),
    AREA("first-fit by decreasing size x lifetime", Comparator.comparingLong((ToLongFunction<Buffer>) b -> -(long) b.bytes() * (b.lastOp() - b.firstOp() + 1)).thenComparingInt(b -> -b.bytes())),
    FIRST_USE("first-fit in order of first use", Comparator.comparingInt(Buffer::firstOp).thenComparingInt(b -> -b.bytes()));

    final String label;
    final Comparator<Buffer> comparator;

    Order(String label, Comparator<Buffer> comparator) {
      this.label = label;
      this.comparator = comparator;
    }
  }

  private static List<Placement> place(List<Buffer> buffers, Comparator<Buffer> order) {
    List<Buffer> sorted = new ArrayList<>(buffers);
    sorted.sort(order);
    List<Placement> placed = new ArrayList<>();
    for (Buffer b : sorted) {
      // Candidate offsets: 0 and the aligned end of every time-overlapping placement; take the lowest that fits.
      List<Placement> conflicts = new ArrayList<>();
      for (Placement p : placed) if (p.buffer().overlapsInTime(b)) conflicts.add(p);
      conflicts.sort(Comparator.comparingInt(Placement::offset));
      int offset = 0;
      for (Placement p : conflicts) {
        if (offset + b.bytes() <= p.offset()) break;
        offset = Math.max(offset, align(p.end()));
      }
      placed.add(new Placement(b, offset));
    }
    return reorder(placed, buffers);
  }

  /** The placements in the caller's buffer order, so the plan reads in that order. */
  private static List<Placement> reorder(List<Placement> placed, List<Buffer> buffers) {
    java.util.Map<Buffer, Placement> byBuffer = new java.util.IdentityHashMap<>();
    for (Placement p : placed) byBuffer.put(p.buffer(), p);
    List<Placement> inOrder = new ArrayList<>();
    for (Buffer b : buffers) inOrder.add(byBuffer.get(b));
    return inOrder;
  }

  private static int arenaSize(List<Placement> placements) {
    int end = 0;
    for (Placement p : placements) end = Math.max(end, p.end());
    return align(end);
  }

  static int align(int n) { return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT; }

  public List<Placement> placements() { return placements; }

  /** Offset of the buffer with this name. */
  public int offsetOf(String name) {
    for (Placement p : placements) if (p.buffer().name().equals(name)) return p.offset();
    throw new IllegalArgumentException("no buffer named '" + name + "' in the plan");
  }

  /** The arena's size in bytes (a multiple of {@link #ALIGNMENT}). */
  public int arenaBytes() { return arenaBytes; }

  public int lowerBoundBytes() { return lowerBoundBytes; }

  /** What a single first-fit-by-decreasing-size pass (TFLM's greedy planner) gives. */
  public int greedyBytes() { return greedyBytes; }

  /** Which order won. */
  public String strategy() { return strategy; }

  /** arena / lower bound; 1.0 is optimal. */
  public double ratioToLowerBound() { return lowerBoundBytes == 0 ? 1.0 : (double) arenaBytes / lowerBoundBytes; }

  @Override public String toString() {
    return String.format(java.util.Locale.ROOT, "arena %d bytes (lower bound %d, greedy %d, x%.3f, %s)",
        arenaBytes, lowerBoundBytes, greedyBytes, ratioToLowerBound(), strategy);
  }
}
