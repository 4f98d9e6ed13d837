package dev.kiln.kernel.render;

import dev.kiln.compile.MemoryPlan;
import dev.kiln.compile.MemoryPlan.Placement;
import java.util.List;
import java.util.Locale;

/**
 * The arena as a timeline: one rectangle per buffer, spanning the operators during which it must
 * stay intact (x) at its offset in the arena (y, bytes upward). A dashed line marks the arena's
 * size (the peak of the plan), a dotted one the lower bound (the most bytes live at any one op, the
 * step line), so a gap between them is bytes the planner lost to fragmentation.
 */
public final class MemoryPlanSvg {
  private static final String[] FILLS = {"#8fb3de", "#f4b183", "#a9d18e", "#ffd966", "#c9a0dc", "#9dc3c1", "#f8a5a5", "#c5c5c5"};
  private static final String ARENA = "#c0392b";
  private static final String BOUND = "#3b7dd8"; // a mid blue: legible on light and dark backgrounds
  private static final String LIVE = Svg.INK;

  private MemoryPlanSvg() {}

  /** The timeline, operators named by the plan's {@link MemoryPlan#opNames} (numbered 0..n-1 when it has none). */
  public static String timeline(MemoryPlan plan) { return timeline(plan, null); }

  /** The timeline with {@code opLabels.get(i)} (e.g. {@code CONV_2D}) under operator i; null for the plan's own names. */
  public static String timeline(MemoryPlan plan, List<String> opLabels) { return chart(plan, opLabels).end(); }

  /** The chart, for its SVG ({@link Svg#end}) and its HTML twin ({@link Svg#html}). */
  static Svg chart(MemoryPlan plan, List<String> opLabels) {
    if (opLabels == null && !plan.opNames().isEmpty()) opLabels = plan.opNames();
    List<Placement> placements = plan.placements();
    int ops = placements.stream().mapToInt(p -> p.buffer().lastOp()).max().orElse(-1) + 1;
    if (opLabels != null) ops = Math.max(ops, opLabels.size());
    String title = String.format(Locale.ROOT, "arena %,d B, lower bound %,d B (x%.3f), greedy %,d B: %s", plan.arenaBytes(),
        plan.lowerBoundBytes(), plan.ratioToLowerBound(), plan.greedyBytes(), plan.strategy());
    if (placements.isEmpty() || ops == 0) {
      Svg svg = new Svg(420, 40, "memory plan: empty arena");
      svg.text(8, 24, "memory plan: no intermediate buffers (empty arena)", "start", LIVE, false);
      return svg;
    }

    double left = 70;
    double right = 150;
    double top = 30;
    double plotH = 220;
    double bottom = opLabels != null ? 42 : 28;
    double col = Math.max(14, Math.min(90, 600.0 / ops));
    double plotW = col * ops;
    double width = left + plotW + right;
    double height = top + plotH + bottom;

    long[] live = new long[ops];
    for (Placement p : placements) {
      for (int op = Math.max(0, p.buffer().firstOp()); op <= p.buffer().lastOp() && op < ops; op++) live[op] += p.buffer().bytes();
    }
    long maxLive = 0;
    for (long v : live) maxLive = Math.max(maxLive, v);
    double maxY = Math.max(1, Math.max(plan.arenaBytes(), Math.max(plan.lowerBoundBytes(), maxLive))) * 1.08;
    double base = top + plotH;
    java.util.function.DoubleUnaryOperator y = b -> base - b / maxY * plotH;

    Svg svg = new Svg(width, height, "memory plan timeline: " + title);
    svg.text(left, 16, "Memory plan: " + title, "start", LIVE, true);

    // Axes and byte ticks.
    svg.line(left, top, left, base, "#999", 1, null).line(left, base, left + plotW, base, "#999", 1, null);
    double step = niceStep(maxY / 5);
    for (double b = 0; b <= maxY; b += step) {
      double yy = y.applyAsDouble(b);
      svg.line(left - 4, yy, left, yy, "#999", 1, null);
      if (b > 0) svg.line(left, yy, left + plotW, yy, "#eeeeee", 1, null);
      svg.text(left - 6, yy + 4, String.format(Locale.ROOT, "%,d", (long) b), "end", "#555", false);
    }
    svg.text(12, top + plotH / 2, "bytes", "start", "#555", false);

    // Operators along x.
    for (int op = 0; op < ops; op++) {
      double x = left + op * col;
      String label = opLabels != null && op < opLabels.size() ? opLabels.get(op) : null;
      svg.rect(x, top, col, plotH, op % 2 == 0 ? "#fbfbfb" : "#ffffff", null,
          "op " + op + (label != null ? " " + label : "") + String.format(Locale.ROOT, ": %,d B live", live[op]));
      if (col >= 14 || op % 5 == 0) svg.text(x + col / 2, base + 13, Integer.toString(op), "middle", "#555", false);
      if (label != null && col >= 40) {
        int fits = (int) ((col - 6) / 7.3); // upper-case operator names at 11 px
        String shortLabel = label.length() <= fits ? label : label.substring(0, Math.max(1, fits - 1)) + "\u2026";
        svg.text(x + col / 2, base + 26, shortLabel, "middle", "#777", false);
      }
    }
    svg.text(left + plotW / 2, height - 4, "operator (execution order)", "middle", "#555", false);

    // Buffers, labelled by the distinctive part of their names (the full name on hover).
    List<String> shortNames = shortNames(placements.stream().map(p -> p.buffer().name()).toList());
    for (int i = 0; i < placements.size(); i++) {
      Placement p = placements.get(i);
      MemoryPlan.Buffer b = p.buffer();
      double x0 = left + b.firstOp() * col;
      double x1 = left + (b.lastOp() + 1) * col;
      double y0 = y.applyAsDouble(p.end());
      double y1 = y.applyAsDouble(p.offset());
      String producer = opLabels != null && b.firstOp() >= 0 && b.firstOp() < opLabels.size()
          ? ", made by op " + b.firstOp() + " " + opLabels.get(b.firstOp()) : "";
      String tip = String.format(Locale.ROOT, "%s: %,d B at offset %,d, live over ops %d..%d%s", b.name(), b.bytes(), p.offset(),
          b.firstOp(), b.lastOp(), producer);
      svg.labelledRect(x0 + 1, y0, x1 - x0 - 2, Math.max(1, y1 - y0), FILLS[i % FILLS.length], "#555", tip,
          y1 - y0 >= 13 ? shortNames.get(i) : null, "#1a1a1a");
    }

    // Bytes live at each op: the lower bound is its highest step.
    double[] xy = new double[ops * 4];
    for (int op = 0; op < ops; op++) {
      double yy = y.applyAsDouble(live[op]);
      xy[op * 4] = left + op * col;
      xy[op * 4 + 1] = yy;
      xy[op * 4 + 2] = left + (op + 1) * col;
      xy[op * 4 + 3] = yy;
    }
    svg.polyline(xy, LIVE, 1.2, null);

    // Peak (arena) and lower bound.
    double ya = y.applyAsDouble(plan.arenaBytes());
    double yb = y.applyAsDouble(plan.lowerBoundBytes());
    svg.line(left, ya, left + plotW, ya, ARENA, 1.6, "6,3");
    svg.line(left, yb, left + plotW, yb, BOUND, 1.6, "2,3");
    double labelA = ya + 4;
    double labelB = yb + 4;
    if (Math.abs(labelA - labelB) < 13) labelB = labelA + 13;
    svg.text(left + plotW + 6, labelA, String.format(Locale.ROOT, "arena (peak) %,d B", plan.arenaBytes()), "start", ARENA, true);
    svg.text(left + plotW + 6, labelB, String.format(Locale.ROOT, "lower bound %,d B", plan.lowerBoundBytes()), "start", BOUND, true);
    svg.text(left + plotW + 6, Math.min(base, Math.max(labelA, labelB) + 16), "\u2014 bytes live per op", "start", LIVE, false);
    return svg;
  }

  /**
   * What tells buffers apart. Buffer names are tensors' C names, and TFLite's join the names of
   * fused tensors and repeat the model's scope
   * ({@code functional_1_activation_3_Relu_functional_1_batch_normalization_3_...}): the scope most
   * names start with (a prefix of whole {@code _}/{@code /} tokens shared by at least 60% of them)
   * is dropped, and what follows is cut where the scope starts again (the next fused name) or at a
   * {@code ;}. Names that still collide get {@code #1}, {@code #2}.
   */
  static List<String> shortNames(List<String> names) {
    String scope = commonScope(names);
    List<String> out = new java.util.ArrayList<>();
    for (String n : names) {
      String s = n.split(";", 2)[0];
      if (!scope.isEmpty() && s.startsWith(scope) && s.length() > scope.length()) {
        s = s.substring(scope.length());
        int again = s.indexOf(scope.substring(0, scope.length() - 1));
        if (again > 0) s = s.substring(0, again).replaceAll("[_/]+$", "");
      }
      out.add(s.isEmpty() ? n : s);
    }
    java.util.Map<String, Integer> count = new java.util.HashMap<>();
    for (String s : out) count.merge(s, 1, Integer::sum);
    java.util.Map<String, Integer> seen = new java.util.HashMap<>();
    List<String> unique = new java.util.ArrayList<>();
    for (String s : out) unique.add(count.get(s) > 1 ? s + " #" + seen.merge(s, 1, Integer::sum) : s);
    return unique;
  }

  /**
   * The model's scope ({@code functional_1_}): a prefix of whole tokens, separator included, that
   * at least 60% of the names share, made longer only while every one of those names still shares
   * it; of those, the longest that comes back inside a name (where TFLite joined the next fused
   * tensor's name), else the longest. "" if none.
   */
  private static String commonScope(List<String> names) {
    if (names.size() < 2) return "";
    List<String> candidates = new java.util.ArrayList<>();
    int lastCount = 0;
    for (int k = 1; ; k++) {
      java.util.Map<String, Integer> counts = new java.util.HashMap<>();
      for (String n : names) {
        String p = tokenPrefix(n.split(";", 2)[0], k);
        if (p != null) counts.merge(p, 1, Integer::sum);
      }
      String top = null;
      int topCount = 0;
      for (var e : counts.entrySet()) {
        if (e.getValue() > topCount) {
          top = e.getKey();
          topCount = e.getValue();
        }
      }
      if (top == null || topCount < Math.max(2, Math.ceil(names.size() * 0.6)) || (k > 1 && topCount < lastCount)) break;
      candidates.add(top);
      lastCount = topCount;
    }
    for (int c = candidates.size() - 1; c >= 0; c--) {
      String stem = candidates.get(c).substring(0, candidates.get(c).length() - 1);
      for (String n : names) if (n.indexOf(stem, 1) > 0) return candidates.get(c);
    }
    return candidates.isEmpty() ? "" : candidates.get(candidates.size() - 1);
  }

  /** The first {@code k} tokens of {@code s} with the separator after them, or null when fewer remain after them. */
  private static String tokenPrefix(String s, int k) {
    int at = -1;
    for (int i = 0; i < k; i++) {
      int next = -1;
      for (int j = at + 1; j < s.length(); j++) {
        if (s.charAt(j) == '_' || s.charAt(j) == '/') {
          next = j;
          break;
        }
      }
      if (next < 0) return null;
      at = next;
    }
    return at + 1 < s.length() ? s.substring(0, at + 1) : null;
  }

  /** 1, 2 or 5 times a power of ten, at least {@code raw}. */
  static double niceStep(double raw) {
    if (raw <= 1) return 1;
    double p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (double m : new double[] {1, 2, 5, 10}) if (m * p >= raw) return m * p;
    return 10 * p;
  }
}
