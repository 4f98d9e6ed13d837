package dev.kiln.kernel.render;

import dev.kiln.api.Timing;
import dev.kiln.kernel.display.MimeBundle;
import java.util.Locale;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * A device timing: median, min and max microseconds per run in a table, and every round as a dot
 * on a strip (spread at a glance; a lone slow round is a noisy host, not a slow model).
 */
public final class TimingView {
  private static final String MEDIAN = "#d0443a"; // a red legible on light and dark backgrounds

  private TimingView() {}

  public static MimeBundle render(Timing.Result r) {
    Svg strip = chart(r);
    String html = Html.root("timing", "<div style=\"" + Html.FONT + "\"><b>Device timing</b> of " + Html.code(r.executor()) + "</div>"
        + Html.table(table(r)) + strip.html());
    return MimeBundle.html(html).withSvg(strip.end()).withText(r.toString());
  }

  public static Table table(Timing.Result r) {
    StringColumn executor = StringColumn.create("executor", new String[] {r.executor()});
    StringColumn median = StringColumn.create("median us", new String[] {us(r.medianMicros())});
    StringColumn min = StringColumn.create("min us", new String[] {us(r.minMicros())});
    StringColumn max = StringColumn.create("max us", new String[] {us(r.maxMicros())});
    IntColumn rounds = IntColumn.create("rounds", new int[] {r.secondsPerCall().length});
    IntColumn number = IntColumn.create("runs per round", new int[] {r.number()});
    Table t = Table.create("", executor, median, min, max, rounds, number);
    if (r.icountShift() >= 7) {
      // a QEMU board: its clock counts instructions (-icount), so the count is the figure; the us are virtual time
      t.addColumns(StringColumn.create("instructions per run", new String[] {String.format(Locale.ROOT, "%,.0f", r.instructionsPerCall())}));
    }
    return t;
  }

  static String strip(Timing.Result r) { return chart(r).end(); }

  /**
   * The strip: the axis starts at zero or above (a time is never negative) and the median's label
   * is anchored so it stays inside the chart however close the median sits to an edge.
   */
  static Svg chart(Timing.Result r) {
    double[] s = r.secondsPerCall();
    double width = 420;
    double left = 10;
    double plotW = width - 2 * left;
    Svg svg = new Svg(width, 58, "timing of " + r.executor() + ": " + r);
    double min = r.minMicros();
    double max = r.maxMicros();
    double span = max > min ? max - min : Math.max(1e-3, min * 0.1);
    double lo = Math.max(0, max > min ? min - span * 0.05 : min - span / 2);
    double hi = Math.max(lo + span * 1.1, max + span * 0.05);
    svg.line(left, 30, left + plotW, 30, "#bbb", 1, null);
    for (double sec : s) {
      double us = sec * 1e6;
      svg.circle(left + (us - lo) / (hi - lo) * plotW, 30, 4, "#2e75b6", us(us) + " us");
    }
    double xm = left + (r.medianMicros() - lo) / (hi - lo) * plotW;
    svg.line(xm, 18, xm, 42, MEDIAN, 2, null);
    String medianLabel = "median " + us(r.medianMicros()) + " us";
    double half = medianLabel.length() * 6.6 / 2 + 2; // bold 11 px text
    if (xm - half < 0) svg.text(Math.max(0, xm - 6), 13, medianLabel, "start", MEDIAN, true);
    else if (xm + half > width) svg.text(Math.min(width, xm + 6), 13, medianLabel, "end", MEDIAN, true);
    else svg.text(xm, 13, medianLabel, "middle", MEDIAN, true);
    svg.text(left, 55, us(lo) + " us", "start", Svg.MUTED_INK, false);
    svg.text(left + plotW, 55, us(hi) + " us", "end", Svg.MUTED_INK, false);
    return svg;
  }

  static String us(double micros) {
    return micros >= 100 ? String.format(Locale.ROOT, "%.1f", micros) : String.format(Locale.ROOT, "%.2f", micros);
  }
}
