package dev.kiln.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The text forms of a {@link Comparison}: aligned text, Markdown, CSV, an HTML fragment with CSS-only
 * bars, a self-contained HTML document and an SVG chart. Every value is escaped where it lands; the
 * HTML document is well-formed XML (polyglot), so it parses back with any XML parser.
 *
 * <p>Colours: the fragment sets no text colour (it inherits the page's, light or dark) and only
 * translucent backgrounds and mid-tone bars, which read on white and on black alike, and survive a
 * sanitizer that drops CSS variables. The document styles itself with JupyterLab's {@code --jp-*}
 * variables, light values as fallbacks, dark ones set under {@code prefers-color-scheme: dark}.
 */
final class ComparisonFormats {
  private ComparisonFormats() {}

  static final String CODE = "#4e79a7";
  static final String WEIGHTS = "#f28e2b";
  static final String PARAMS = "#59a14f";
  static final String OTHER = "#9c9c9c";
  static final String BAR = "#4e79a7";
  private static final String BAD_ROW = "background-color: rgba(214, 39, 40, 0.18);";
  private static final String HEAD = "background-color: rgba(127, 127, 127, 0.16); font-weight: 600;";
  private static final String CELL = "padding: 2px 8px; border-bottom: 1px solid rgba(127, 127, 127, 0.35); text-align: left; vertical-align: middle; white-space: nowrap;";
  private static final String NUM = " text-align: right; font-variant-numeric: tabular-nums;";
  private static final String FONT = "font-family: -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif; font-size: 13px;";

  /** The human table's header. */
  static final List<String> HEADER = List.of("model", "executor", "device", "match", "max |diff|", "steps", "top-1", "median us", "min us",
      "max us", "instructions", "arena B", "flash B", "code B", "weights B", "params B", "compile ms");

  /** The HTML table's header: latency and flash cells also hold their spread, split and bar. */
  static final List<String> HTML_HEADER = List.of("model", "executor", "device", "match", "max |diff|", "steps", "top-1",
      "latency us", "instructions", "arena B", "flash B", "compile ms");

  private static String small(String text) {
    return " <span style=\"font-size: 11px; opacity: 0.75;\">(" + escape(text) + ")</span>";
  }

  /** Which columns of {@link #HEADER} are numbers (right-aligned). */
  private static boolean numeric(int column) { return column >= 4; }

  static List<String> cells(Comparison.Row r) {
    return List.of(r.model(), r.executor(), r.device(), match(r), diff(r.maxAbsDiff()), n(r.maxDiffSteps()), pct(r.top1Agreement()),
        us(r.latencyMedianUs()), us(r.latencyMinUs()), us(r.latencyMaxUs()), n(r.instructions()), n(r.arenaBytes()), n(r.flashBytes()),
        n(r.codeBytes()), n(r.weightsBytes()), n(r.paramsBytes()), r.compileMs() == null ? "-" : String.format(Locale.ROOT, "%.1f", r.compileMs()));
  }

  static String match(Comparison.Row r) {
    if (r.error() != null) return "error";
    if (r.referenceMatch() == null) return "-";
    return r.referenceMatch() ? "yes" : "NO";
  }

  private static String diff(Double d) {
    if (d == null) return "-";
    if (d.isNaN()) return "n/a";
    return d == 0 ? "0" : String.format(Locale.ROOT, "%.3g", d);
  }

  private static String n(Number v) { return v == null ? "-" : v.toString(); }

  private static String pct(Double v) { return v == null ? "-" : String.format(Locale.ROOT, "%.0f%%", v * 100); }

  private static String us(Double v) { return v == null ? "-" : String.format(Locale.ROOT, "%.2f", v); }

  /** One line saying what was compared and whether everything matched. */
  static String summary(Comparison c) {
    List<Comparison.Row> rows = c.rows();
    long models = rows.stream().map(Comparison.Row::model).distinct().count();
    long executors = rows.stream().map(Comparison.Row::executor).distinct().count();
    long devices = rows.stream().map(Comparison.Row::device).distinct().count();
    int sets = rows.stream().mapToInt(r -> r.inputs().size()).max().orElse(0);
    List<Comparison.Row> bad = c.mismatches();
    return String.format(Locale.ROOT, "%d row%s (%d model%s x %d executor%s x %d device%s), %d input set%s, %d timed run%s each; %s",
        rows.size(), s(rows.size()), models, s(models), executors, s(executors), devices, s(devices), sets, s(sets), c.runs(), s(c.runs()),
        bad.isEmpty() ? "every row matches its reference (" + c.tolerance() + ")"
            : bad.size() + " row" + s(bad.size()) + " failed or differ from the reference (" + c.tolerance() + ")");
  }

  private static String s(long n) { return n == 1 ? "" : "s"; }

  /** Why each failed or differing row did, one line each. */
  static List<String> notes(Comparison c) {
    List<String> out = new ArrayList<>();
    for (Comparison.Row r : c.rows()) {
      String what = r.model() + " / " + r.executor() + " / " + r.device();
      if (r.error() != null) out.add(what + ": error: " + r.error().lines().findFirst().orElse(""));
      else if (Boolean.FALSE.equals(r.referenceMatch())) out.add(what + ": differs from " + r.reference() + ": " + r.mismatch());
    }
    return out;
  }

  static String text(Comparison c) {
    List<List<String>> table = new ArrayList<>();
    table.add(HEADER);
    for (Comparison.Row r : c.rows()) table.add(cells(r));
    int[] width = new int[HEADER.size()];
    for (List<String> row : table) for (int i = 0; i < row.size(); i++) width[i] = Math.max(width[i], row.get(i).length());
    StringBuilder sb = new StringBuilder("Kiln comparison: ").append(summary(c)).append('\n');
    for (List<String> row : table) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.size(); i++) {
        String v = row.get(i);
        String pad = " ".repeat(width[i] - v.length());
        line.append(i == 0 ? "" : "  ").append(numeric(i) ? pad + v : v + pad);
      }
      sb.append(line.toString().stripTrailing()).append('\n');
    }
    for (String note : notes(c)) sb.append("  ").append(note).append('\n');
    return sb.toString();
  }

  static String markdown(Comparison c) {
    StringBuilder sb = new StringBuilder("# Kiln comparison\n\n").append(mdEscape(summary(c))).append("\n\n|");
    for (String h : HEADER) sb.append(' ').append(mdEscape(h)).append(" |");
    sb.append("\n|");
    for (int i = 0; i < HEADER.size(); i++) sb.append(numeric(i) ? " ---: |" : " --- |");
    sb.append('\n');
    for (Comparison.Row r : c.rows()) {
      sb.append('|');
      for (String v : cells(r)) sb.append(' ').append(mdEscape(v)).append(" |");
      sb.append('\n');
    }
    List<String> notes = notes(c);
    if (!notes.isEmpty()) {
      sb.append('\n');
      for (String note : notes) sb.append("- ").append(mdEscape(note)).append('\n');
    }
    sb.append("\nmax |diff| in real units (int8 outputs dequantized), steps in quantization steps; latency timed on the device; "
        + "flash = code + read-only data + data of the device program.\n");
    return sb.toString();
  }

  private static String mdEscape(String s) { return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " "); }

  static String csv(Comparison c) {
    StringBuilder sb = new StringBuilder(String.join(",", Comparison.COLUMNS)).append("\r\n");
    for (Comparison.Row r : c.rows()) {
      List<String> line = new ArrayList<>();
      for (Map.Entry<String, Object> e : Comparison.flat(r).entrySet()) line.add(csvCell(e.getValue()));
      sb.append(String.join(",", line)).append("\r\n");
    }
    return sb.toString();
  }

  private static String csvCell(Object v) {
    if (v == null) return "";
    String s = v instanceof Double d ? (d.isNaN() || d.isInfinite() ? "" : Double.toString(d)) : v.toString();
    return s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }

  // ---------------------------------------------------------------------------------------------- HTML

  static String escape(Object value) {
    String s = String.valueOf(value);
    StringBuilder sb = new StringBuilder(s.length() + 8);
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '&' -> sb.append("&amp;");
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&#39;");
        default -> sb.append(ch < 0x20 && ch != '\n' && ch != '\t' ? '\uFFFD' : ch);
      }
    }
    return sb.toString();
  }

  /** The table with a latency bar and a flash split bar per row, all HTML/CSS. */
  static String htmlFragment(Comparison c) {
    double maxLatency = c.rows().stream().filter(r -> r.latencyMaxUs() != null).mapToDouble(Comparison.Row::latencyMaxUs).max().orElse(0);
    long maxFlash = c.rows().stream().filter(r -> r.flashBytes() != null).mapToLong(Comparison.Row::flashBytes).max().orElse(0);
    StringBuilder sb = new StringBuilder();
    sb.append("<div class=\"kiln-compare\" style=\"").append(FONT).append(" margin: 4px 0;\">");
    sb.append("<div style=\"margin: 2px 0 4px 0;\"><b>Kiln comparison</b>: ").append(escape(summary(c))).append("</div>");
    sb.append("<div style=\"overflow-x: auto;\"><table class=\"kiln-table kiln-compare-table\" style=\"border-collapse: collapse; margin: 4px 0 8px 0;\"><thead><tr>");
    // compact for a notebook's width: min-max under the median, the flash split under the total, each with its bar
    for (int i = 0; i < HTML_HEADER.size(); i++) {
      sb.append("<th style=\"").append(CELL).append(' ').append(HEAD).append(i >= 4 ? NUM : "").append("\">")
          .append(escape(HTML_HEADER.get(i))).append("</th>");
    }
    sb.append("</tr></thead><tbody>");
    for (Comparison.Row r : c.rows()) {
      boolean bad = !r.ok();
      sb.append("<tr class=\"").append(bad ? "kiln-compare-bad" : "kiln-compare-ok").append("\"")
          .append(bad ? " style=\"" + BAD_ROW + "\"" : "").append(">");
      List<String> cells = cells(r);
      for (int i = 0; i < 7; i++) {
        sb.append("<td style=\"").append(CELL).append(numeric(i) ? NUM : "").append("\"");
        if (i == 3 && (r.mismatch() != null || r.error() != null)) sb.append(" title=\"").append(escape(r.error() != null ? r.error() : r.mismatch())).append("\"");
        sb.append(">").append(i == 3 && bad ? "<b>" + escape(cells.get(i)) + "</b>" : escape(cells.get(i))).append("</td>");
      }
      sb.append("<td style=\"").append(CELL).append(NUM).append(" min-width: 124px;\">").append(escape(cells.get(7)))
          .append(r.latencyMinUs() == null ? "" : small(cells.get(8) + "\u2013" + cells.get(9))).append(latencyBar(r, maxLatency)).append("</td>");
      for (int i = 10; i <= 11; i++) sb.append("<td style=\"").append(CELL).append(NUM).append("\">").append(escape(cells.get(i))).append("</td>");
      sb.append("<td style=\"").append(CELL).append(NUM).append(" min-width: 124px;\">").append(escape(cells.get(12)))
          .append(r.flashBytes() == null ? "" : "<div style=\"font-size: 11px; opacity: 0.75;\">" + escape(cells.get(13) + " / " + cells.get(14)
              + " / " + cells.get(15)) + "</div>").append(flashBar(r, maxFlash))
          .append("</td>");
      sb.append("<td style=\"").append(CELL).append(NUM).append("\">").append(escape(cells.get(16))).append("</td>");
      sb.append("</tr>");
    }
    sb.append("</tbody></table></div>");
    sb.append("<div style=\"font-size: 12px;\">latency: median timed on the device (bar), on to the slowest run (line), (min\u2013max) beside it; flash of the device program, split (code / weights / operator parameters) under it: ")
        .append(swatch(CODE)).append(" code ").append(swatch(WEIGHTS)).append(" weights ").append(swatch(PARAMS)).append(" operator parameters ")
        .append(swatch(OTHER)).append(" other read-only data and data. max |diff| in real units (int8 outputs dequantized); steps in quantization steps.</div>");
    List<String> notes = notes(c);
    if (!notes.isEmpty()) {
      sb.append("<ul class=\"kiln-compare-notes\" style=\"margin: 4px 0; padding-left: 20px;\">");
      for (String n : notes) sb.append("<li>").append(escape(n)).append("</li>");
      sb.append("</ul>");
    }
    sb.append("</div>");
    return sb.toString();
  }

  private static String swatch(String color) {
    return "<span style=\"display: inline-block; width: 10px; height: 10px; background-color: " + color + "; vertical-align: middle;\"></span>";
  }

  /*
   * The bars use only inline-block boxes with a width, a height and a background colour: what the
   * notebook sanitizers keep (JupyterLab drops flex and grid layouts and positioning from untrusted HTML).
   */
  private static final String BOX_ROW = "white-space: nowrap; line-height: 0; font-size: 0; text-align: left; margin-top: 2px;";

  private static String box(double width, int height, String color) {
    return String.format(Locale.ROOT, "<div style=\"display: inline-block; vertical-align: middle; width: %.1fpx; height: %dpx; "
        + "background-color: %s;\"></div>", width, height, color);
  }

  /** Median as a solid bar, then a thin grey line on to the slowest run. */
  private static String latencyBar(Comparison.Row r, double max) {
    if (r.latencyMedianUs() == null || max <= 0) return "";
    double scale = 120 / max;
    double med = Math.max(1, r.latencyMedianUs() * scale);
    double rest = Math.max(0, r.latencyMaxUs() * scale - med);
    return "<div class=\"kiln-bar\" title=\"" + escape("median " + us(r.latencyMedianUs()) + " us (min " + us(r.latencyMinUs()) + ", max "
        + us(r.latencyMaxUs()) + ")") + "\" style=\"" + BOX_ROW + "\">" + box(med, 10, BAR) + box(rest, 2, OTHER) + "</div>";
  }

  private static String flashBar(Comparison.Row r, long max) {
    if (r.flashBytes() == null || max <= 0) return "";
    double scale = 120.0 / max;
    long other = Math.max(0, r.flashBytes() - r.codeBytes() - r.weightsBytes() - r.paramsBytes());
    StringBuilder sb = new StringBuilder("<div class=\"kiln-bar\" title=\"").append(escape(String.format(Locale.ROOT,
        "flash %d B: code %d, weights %d, operator parameters %d, other %d", r.flashBytes(), r.codeBytes(), r.weightsBytes(), r.paramsBytes(), other)))
        .append("\" style=\"").append(BOX_ROW).append("\">");
    long[] parts = {r.codeBytes(), r.weightsBytes(), r.paramsBytes(), other};
    String[] colors = {CODE, WEIGHTS, PARAMS, OTHER};
    for (int i = 0; i < parts.length; i++) sb.append(box(parts[i] * scale, 10, colors[i]));
    return sb.append("</div>").toString();
  }

  static String htmlDocument(Comparison c) {
    StringBuilder sb = new StringBuilder();
    sb.append("<!DOCTYPE html>\n<html lang=\"en\" xmlns=\"http://www.w3.org/1999/xhtml\">\n<head>\n<meta charset=\"utf-8\"/>\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
        .append("<meta name=\"color-scheme\" content=\"light dark\"/>\n")
        .append("<title>Kiln comparison</title>\n<style>\n")
        .append("body { margin: 16px; background: var(--jp-layout-color0, #ffffff); color: var(--jp-ui-font-color1, #1a1a1a); ")
        .append(FONT).append(" }\n")
        .append("h1 { font-size: 18px; margin: 0 0 8px 0; }\n")
        .append("figure { margin: 12px 0; }\n")
        .append("figcaption { font-size: 12px; color: var(--jp-ui-font-color2, #555555); }\n")
        .append(".kiln-chart text { fill: var(--jp-ui-font-color1, #1a1a1a); }\n")
        .append(".kiln-chart .axis { stroke: var(--jp-border-color1, #999999); }\n")
        .append("footer { margin-top: 16px; font-size: 12px; color: var(--jp-ui-font-color2, #555555); }\n")
        .append("@media (prefers-color-scheme: dark) {\n  :root { --jp-layout-color0: #111111; --jp-ui-font-color1: #e6e6e6; ")
        .append("--jp-ui-font-color2: #b0b0b0; --jp-border-color1: #777777; }\n}\n")
        .append("</style>\n</head>\n<body>\n<h1>Kiln comparison</h1>\n");
    sb.append(htmlFragment(c)).append('\n');
    String chart = chart(c, true);
    if (!chart.isEmpty()) {
      sb.append("<figure>").append(chart).append("<figcaption>Device latency (bar: median; line: min to max) and flash of each row's device program."
          + " The same figures are drawn with HTML bars in the table, for viewers that do not show SVG.</figcaption></figure>\n");
    }
    sb.append("<footer>Made by Kiln on ").append(escape(c.created().toString())).append(". Machine-readable forms: save the same comparison as .json or .csv.</footer>\n");
    sb.append("</body>\n</html>\n");
    return sb.toString();
  }

  static String chartSvg(Comparison c) { return chart(c, false, true); }

  private static String chart(Comparison c, boolean themed) { return chart(c, themed, false); }

  /**
   * Two panels, one bar per row: device latency (median, min-max whisker) and flash split. Themed:
   * text takes the page's colour through CSS (inline in a document); else fixed colours on a white
   * background, for an image shown alone. Empty when there is nothing to draw, unless {@code always}.
   */
  private static String chart(Comparison c, boolean themed, boolean always) {
    List<Comparison.Row> timed = c.rows().stream().filter(r -> r.latencyMedianUs() != null).toList();
    List<Comparison.Row> sized = c.rows().stream().filter(r -> r.flashBytes() != null).toList();
    if (timed.isEmpty() && sized.isEmpty() && !always) return "";
    double width = 680;
    double labelW = 270;
    double plotW = width - labelW - 90;
    double rowH = 18;
    double h = 10 + (timed.isEmpty() ? 0 : 24 + timed.size() * rowH + 10) + (sized.isEmpty() ? 0 : 24 + sized.size() * rowH + 10)
        + (timed.isEmpty() && sized.isEmpty() ? 30 : 0);
    String text = themed ? "" : " fill=\"#1a1a1a\"";
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"kiln-chart\" width=\"%.0f\" height=\"%.0f\" "
        + "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\" font-family=\"sans-serif\" font-size=\"11\">", width, h, width, h,
        escape("comparison chart: latency and flash of " + c.rows().size() + " rows")));
    if (!themed) sb.append(String.format(Locale.ROOT, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>", width, h));
    double y = 10;
    if (timed.isEmpty() && sized.isEmpty()) {
      sb.append("<text x=\"10\" y=\"24\"").append(text).append(">nothing timed or sized (runs(0), or every row failed)</text>");
    }
    if (!timed.isEmpty()) {
      double max = timed.stream().mapToDouble(Comparison.Row::latencyMaxUs).max().orElse(1);
      if (max <= 0) max = 1;
      sb.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"%.1f\" font-weight=\"600\"%s>device latency, us (median; min-max)</text>", y + 12, text));
      y += 24;
      for (Comparison.Row r : timed) {
        double s = plotW / max;
        sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\"%s>%s</text>", labelW - 6, y + 12, text,
            escape(label(r))));
        sb.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"12\" fill=\"%s\"><title>%s</title></rect>",
            labelW, y + 2, Math.max(1, r.latencyMedianUs() * s), BAR, escape(label(r) + ": median " + us(r.latencyMedianUs()) + " us")));
        sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>",
            labelW + r.latencyMinUs() * s, y + 8, labelW + r.latencyMaxUs() * s, y + 8, OTHER));
        sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\"%s>%s</text>", labelW + r.latencyMaxUs() * s + 4, y + 12, text,
            escape(us(r.latencyMedianUs()))));
        y += rowH;
      }
      y += 10;
    }
    if (!sized.isEmpty()) {
      long max = sized.stream().mapToLong(Comparison.Row::flashBytes).max().orElse(1);
      sb.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"%.1f\" font-weight=\"600\"%s>flash, bytes (code, weights, operator parameters, other)</text>",
          y + 12, text));
      y += 24;
      for (Comparison.Row r : sized) {
        double s = plotW / Math.max(1, max);
        sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\"%s>%s</text>", labelW - 6, y + 12, text,
            escape(label(r))));
        long other = Math.max(0, r.flashBytes() - r.codeBytes() - r.weightsBytes() - r.paramsBytes());
        long[] parts = {r.codeBytes(), r.weightsBytes(), r.paramsBytes(), other};
        String[] colors = {CODE, WEIGHTS, PARAMS, OTHER};
        String[] names = {"code", "weights", "operator parameters", "other"};
        double x = labelW;
        for (int i = 0; i < parts.length; i++) {
          sb.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"12\" fill=\"%s\"><title>%s</title></rect>",
              x, y + 2, parts[i] * s, colors[i], escape(names[i] + " " + parts[i] + " B")));
          x += parts[i] * s;
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\"%s>%d</text>", x + 4, y + 12, text, r.flashBytes()));
        y += rowH;
      }
    }
    return sb.append("</svg>").toString();
  }

  private static String label(Comparison.Row r) { return r.model() + " · " + r.executor() + " · " + r.device(); }
}
