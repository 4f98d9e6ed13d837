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
 * A memory plan: the SVG timeline ({@link MemoryPlanSvg}) as {@code image/svg+xml}, and as HTML
 * the same SVG inline plus the placements as a table (HTML is what nbconvert and JupyterLab pick
 * first, so the chart must be inside it too).
 */
public final class MemoryPlanView {
  private MemoryPlanView() {}

  public static MimeBundle render(MemoryPlan plan) {
    String svg = MemoryPlanSvg.timeline(plan);
    String html = Html.root("memory-plan", "<div>" + svg + "</div>"
        + Html.details("placements (" + plan.placements().size() + " buffers)", Html.table(placements(plan))));
    return MimeBundle.html(html).withSvg(svg).withText(text(plan));
  }

  /** The timeline for embedding in another display (a build's). */
  static String inline(MemoryPlan plan, List<String> opLabels) {
    return "<div class=\"kiln-memory-plan\">" + MemoryPlanSvg.timeline(plan, opLabels) + "</div>";
  }

  static String text(MemoryPlan plan) {
    StringBuilder sb = new StringBuilder(plan.toString()).append('\n');
    for (Placement p : plan.placements()) {
      sb.append(String.format(Locale.ROOT, "  [%6d, %6d) ops %d..%d  %s%n", p.offset(), p.end(), p.buffer().firstOp(),
          p.buffer().lastOp(), p.buffer().name()));
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
    for (Placement p : plan.placements()) {
      name.append(p.buffer().name());
      bytes.append(p.buffer().bytes());
      offset.append(p.offset());
      end.append(p.end());
      first.append(p.buffer().firstOp());
      last.append(p.buffer().lastOp());
    }
    return Table.create("", name, bytes, offset, end, first, last);
  }
}
