package dev.kiln.kernel.render;

import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

/**
 * The only code that writes HTML for the renderers: escaping, one table writer for Tablesaw tables,
 * and a few inline styles. Every piece of text that comes from a model, a tensor or a message goes
 * through {@link #escape}; tensor names carry {@code :}, {@code ;}, {@code /} and may carry
 * {@code <} or {@code &}. Styles are inline (no {@code <style>} blocks), so a notebook's outputs
 * look the same in JupyterLab, in nbconvert's HTML and after a trust check strips style sheets.
 *
 * <p>Themes: colours come from JupyterLab's CSS variables ({@code --jp-*}) with light fallbacks, so
 * the displays follow the light, dark and high-contrast themes and read in nbconvert's HTML. A
 * background is always set together with the text colour that goes with it, never alone. Each
 * themed declaration comes after a theme-neutral one (translucent grey, inherited text colour):
 * JupyterLab's sanitizer drops {@code var(...)} from untrusted outputs and the neutral one stays.
 */
public final class Html {
  static final String FONT = "font-family: -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif; font-size: 13px;";
  static final String MONO = "font-family: 'SFMono-Regular', Menlo, Consolas, 'Liberation Mono', monospace;";
  static final String BOX = "margin: 4px 0; " + FONT;
  static final String TABLE = "border-collapse: collapse; margin: 4px 0 8px 0; " + FONT;
  /** A raised surface (table headers, code chips, preformatted text) and its text. */
  static final String SURFACE = "background: rgba(128, 128, 128, 0.14); background: var(--jp-layout-color2, #f3f3f3); "
      + "color: var(--jp-ui-font-color1, #111111);";
  static final String TH = "border-bottom: 1px solid rgba(128, 128, 128, 0.6); border-bottom: 1px solid var(--jp-border-color1, #999999); "
      + "padding: 2px 8px; text-align: left; font-weight: 600; " + SURFACE;
  static final String TD = "border-bottom: 1px solid rgba(128, 128, 128, 0.3); border-bottom: 1px solid var(--jp-border-color2, #e2e2e2); "
      + "padding: 2px 8px; text-align: left; vertical-align: top;";
  static final String NUM = "text-align: right; font-variant-numeric: tabular-nums;";
  static final String CAPTION = "caption-side: top; text-align: left; font-weight: 600; padding: 2px 0;";
  /** Secondary text: the theme's own text colour, dimmed (legible on any background). */
  static final String MUTED = "opacity: 0.72;";
  /** A marked table row: translucent amber over whatever the theme's background is, text left to the theme. */
  static final String MARKED = "background: rgba(255, 193, 7, 0.28); box-shadow: inset 3px 0 0 #e0a800;";

  private Html() {}

  /** Text for HTML element content and attribute values (and XML/SVG): {@code & < > " '} escaped. */
  public static String escape(Object value) {
    String s = String.valueOf(value);
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String rep = switch (c) {
        case '&' -> "&amp;";
        case '<' -> "&lt;";
        case '>' -> "&gt;";
        case '"' -> "&quot;";
        case '\'' -> "&#39;";
        default -> null;
      };
      if (rep == null && c < 0x20 && c != '\n' && c != '\t' && c != '\r') rep = "\uFFFD"; // not allowed in XML 1.0
      if (rep != null) {
        if (sb == null) sb = new StringBuilder(s.length() + 16).append(s, 0, i);
        sb.append(rep);
      } else if (sb != null) {
        sb.append(c);
      }
    }
    return sb == null ? s : sb.toString();
  }

  /** Code-like text (names, shapes): escaped, monospace. */
  static String code(Object value) {
    return "<code class=\"kiln-code\" style=\"" + MONO + " font-size: 12px; padding: 0 2px; " + SURFACE + "\">" + escape(value) + "</code>";
  }

  /** Bytes as {@code 10,008 B} (and KiB when large). */
  static String bytes(long n) {
    if (n < 10 * 1024) return String.format(Locale.ROOT, "%,d B", n);
    return String.format(Locale.ROOT, "%,d B (%.1f KiB)", n, n / 1024.0);
  }

  /** A Tablesaw table as an HTML table; every cell escaped, numeric columns right-aligned. */
  public static String table(Table t) { return table(t, null); }

  /**
   * As {@link #table(Table)}, with {@code cellStyle.apply(row, column)} adding inline CSS to a cell
   * (null for none): shading a heat map, marking rows that differ.
   */
  static String table(Table t, BiFunction<Integer, Integer, String> cellStyle) {
    StringBuilder sb = new StringBuilder();
    sb.append("<table class=\"kiln-table\" style=\"").append(TABLE).append("\">");
    if (t.name() != null && !t.name().isBlank()) {
      sb.append("<caption style=\"").append(CAPTION).append("\">").append(escape(t.name())).append("</caption>");
    }
    List<Column<?>> columns = t.columns();
    sb.append("<thead><tr>");
    for (Column<?> c : columns) {
      sb.append("<th style=\"").append(TH).append(numeric(c) ? " " + NUM : "").append("\">").append(escape(c.name())).append("</th>");
    }
    sb.append("</tr></thead><tbody>");
    for (int r = 0; r < t.rowCount(); r++) {
      sb.append("<tr>");
      for (int ci = 0; ci < columns.size(); ci++) {
        Column<?> c = columns.get(ci);
        String extra = cellStyle == null ? null : cellStyle.apply(r, ci);
        sb.append("<td style=\"").append(TD).append(numeric(c) ? " " + NUM : "").append(extra == null ? "" : " " + extra).append("\">");
        sb.append(c.isMissing(r) ? "" : escape(c.getString(r)));
        sb.append("</td>");
      }
      sb.append("</tr>");
    }
    sb.append("</tbody></table>");
    return sb.toString();
  }

  private static final java.util.regex.Pattern NUMBER = java.util.regex.Pattern.compile("[-+]?[0-9][0-9,]*(\\.[0-9]*)?([eE][-+]?[0-9]+)?( ?(B|us|µs|ms|s|%))?|x[0-9.]+|\u2014|");

  /** Numeric columns, and text columns whose every cell reads as a number: right-aligned. */
  private static boolean numeric(Column<?> c) {
    if (c instanceof tech.tablesaw.api.NumericColumn<?>) return true;
    if (c.isEmpty()) return false;
    for (int r = 0; r < c.size(); r++) if (!c.isMissing(r) && !NUMBER.matcher(c.getString(r)).matches()) return false;
    return true;
  }

  /** A labelled block: a bold title line, then {@code body} (already HTML). */
  static String section(String title, String body) {
    return "<div style=\"margin: 6px 0 2px 0; font-weight: 600; " + FONT + "\">" + escape(title) + "</div>" + body;
  }

  /** Collapsed content: visible in the DOM (and so in nbconvert's HTML), open on a click. */
  static String details(String summary, String body) {
    return "<details style=\"" + BOX + "\"><summary style=\"cursor: pointer;\">" + escape(summary) + "</summary>" + body + "</details>";
  }

  /** Preformatted text, escaped. */
  static String pre(String text) {
    return "<pre style=\"" + MONO + " font-size: 12px; " + SURFACE + " padding: 6px; margin: 4px 0; "
        + "white-space: pre-wrap; max-height: 420px; overflow: auto;\">" + escape(text) + "</pre>";
  }

  /** A small coloured label, e.g. a session's state. */
  static String badge(String text, String color) {
    return "<span style=\"display: inline-block; padding: 0 6px; border-radius: 8px; color: #fff; background: " + color
        + "; font-size: 12px;\">" + escape(text) + "</span>";
  }

  /** The outer element of every Kiln display, tagged with the kind of value for tests and styling. */
  static String root(String kind, String body) {
    return "<div class=\"kiln-" + kind + "\" style=\"" + BOX + "\">" + body + "</div>";
  }
}
