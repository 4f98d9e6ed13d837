package dev.kiln.kernel.render;

import dev.kiln.compile.MemoryPlan;
import dev.kiln.compile.MemoryPlan.Placement;
import dev.kiln.kernel.display.MimeBundle;
import java.util.List;
import java.util.Locale;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * A memory plan: the timeline ({@link MemoryPlanSvg}) as {@code image/svg+xml}, and as HTML its
 * HTML twin (what JupyterLab shows even untrusted) plus the placements, with the operator that
 * makes each buffer, as a table (HTML is what nbconvert and JupyterLab pick first, so the chart
 * must be inside it too).
 */
public final class MemoryPlanView {
  private MemoryPlanView() {}

  public static MimeBundle render(MemoryPlan plan) {
    Svg chart = MemoryPlanSvg.chart(plan, null);
    String svg = chart.end();
    String html = Html.root("memory-plan", chart.html()
        + Html.details("placements (" + plan.placements().size() + " buffers)", Html.table(placements(plan))));
    return MimeBundle.html(html).withSvg(svg).withText(text(plan));
  }

  /** The timeline for embedding in another display (a build's). */
  static String inline(MemoryPlan plan, List<String> opLabels) {
    return "<div class=\"kiln-memory-plan\">" + MemoryPlanSvg.chart(plan, opLabels).html() + "</div>";
  }

  static String text(MemoryPlan plan) {
    StringBuilder sb = new StringBuilder(plan.toString()).append('\n');
    for (Placement p : plan.placements()) {
      sb.append(String.format(Locale.ROOT, "  [%6d, %6d) ops %d..%d  %s%s%n", p.offset(), p.end(), p.buffer().firstOp(),
          p.buffer().lastOp(), opName(plan, p.buffer().firstOp()).map(n -> "(made by " + n + ") ").orElse(""), p.buffer().name()));
    }
    return sb.toString();
  }

  /** One row per buffer: name, bytes, offset, end, first and last op. */
  public static Table placements(MemoryPlan plan) {
    StringColumn name = StringColumn.create("buffer");
    IntColumn bytes = IntColumn.create("bytes");
    IntColumn offset = IntColumn.create("offset");
    IntColumn end = IntColumn.create("end");
    IntColumn first = IntColumn.create("first op");
    IntColumn last = IntColumn.create("last op");
    StringColumn madeBy = StringColumn.create("made by");
    for (Placement p : plan.placements()) {
      madeBy.append(opName(plan, p.buffer().firstOp()).orElse(""));
      name.append(p.buffer().name());
      bytes.append(p.buffer().bytes());
      offset.append(p.offset());
      end.append(p.end());
      first.append(p.buffer().firstOp());
      last.append(p.buffer().lastOp());
    }
    Table t = Table.create("", name, bytes, offset, end, first, last);
    if (!plan.opNames().isEmpty()) t.addColumns(madeBy);
    return t;
  }

  /** {@code CONV_2D #3}: the name of op {@code index} when the plan knows its op names. */
  static java.util.Optional<String> opName(MemoryPlan plan, int index) {
    List<String> names = plan.opNames();
    return index >= 0 && index < names.size() ? java.util.Optional.of(names.get(index) + " #" + index) : java.util.Optional.empty();
  }
}
