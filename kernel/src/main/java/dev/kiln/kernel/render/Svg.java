package dev.kiln.kernel.render;

import java.util.Locale;
import java.util.Set;

/**
 * A minimal chart writer that draws every shape twice: as a standalone {@code <svg>} document
 * ({@link #end()}, sent as {@code image/svg+xml}) and as plain positioned {@code <div>}s
 * ({@link #html()}, put inside a display's {@code text/html}). JupyterLab shows the HTML of an
 * untrusted notebook through a sanitizer that removes inline SVG but keeps {@code <div>}s with
 * inline styles in px and hex/rgba colours and {@code title} attributes, so the HTML twin is the chart
 * a reader of a shared notebook sees. No scripts, fonts or links: charts render offline.
 *
 * <p>Colours in the HTML twin follow the theme: {@link #INK} and {@link #MUTED_INK} text becomes
 * {@code var(--jp-ui-font-color1|2)} (dropped by the sanitizer, so it inherits the theme's text
 * colour), near-white fills become translucent greys; other colours are kept. Lines must be
 * horizontal or vertical in the HTML twin (every Kiln chart's are).
 */
final class Svg {
  static final String FONT = "font-family=\"-apple-system, 'Segoe UI', Roboto, Arial, sans-serif\"";
  /** Text in the theme's main text colour. */
  static final String INK = "#333333";
  /** Text in the theme's secondary text colour (axes, captions). */
  static final String MUTED_INK = "#555555";
  private static final Set<String> THEMED = Set.of("#333", "#333333", "#555", "#555555", "#666", "#777", "#888");
  private static final double FONT_PX = 11;

  private final StringBuilder sb = new StringBuilder();
  private final StringBuilder html = new StringBuilder();
  private final double width;
  private final double height;
  private final String label;

  Svg(double width, double height, String label) {
    this.width = width;
    this.height = height;
    this.label = label;
    sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"kiln-svg\" width=\"").append(n(width))
        .append("\" height=\"").append(n(height)).append("\" viewBox=\"0 0 ").append(n(width)).append(' ').append(n(height))
        .append("\" role=\"img\" aria-label=\"").append(Html.escape(label)).append("\" ").append(FONT).append(" font-size=\"11\">");
    sb.append("<title>").append(Html.escape(label)).append("</title>");
    sb.append("<rect x=\"0\" y=\"0\" width=\"").append(n(width)).append("\" height=\"").append(n(height)).append("\" fill=\"#ffffff\"/>");
  }

  double width() { return width; }

  double height() { return height; }

  /** A rectangle; {@code tooltip} (may be null) shows on hover. */
  Svg rect(double x, double y, double w, double h, String fill, String stroke, String tooltip) {
    sb.append("<rect x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" width=\"").append(n(Math.max(0, w)))
        .append("\" height=\"").append(n(Math.max(0, h))).append("\" fill=\"").append(fill).append('"');
    if (stroke != null) sb.append(" stroke=\"").append(stroke).append("\" stroke-width=\"1\"");
    if (tooltip == null) sb.append("/>");
    else sb.append("><title>").append(Html.escape(tooltip)).append("</title></rect>");
    box(x, y, Math.max(0, w), Math.max(0, h), "background: " + fillColour(fill) + ";"
        + (stroke != null ? " box-sizing: border-box; border: 1px solid " + stroke + ";" : ""), tooltip, "");
    return this;
  }

  /**
   * A rectangle with {@code label} (may be null) inside it, top left, in {@code labelFill}; clipped
   * by characters in the SVG, with an ellipsis by CSS in the HTML twin, where the label is the
   * rectangle's own text (so it sits on the rectangle's colour whatever the theme).
   */
  Svg labelledRect(double x, double y, double w, double h, String fill, String stroke, String tooltip, String label, String labelFill) {
    int svgStart = sb.length();
    sb.append("<rect x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" width=\"").append(n(Math.max(0, w)))
        .append("\" height=\"").append(n(Math.max(0, h))).append("\" fill=\"").append(fill).append('"');
    if (stroke != null) sb.append(" stroke=\"").append(stroke).append("\" stroke-width=\"1\"");
    if (tooltip == null) sb.append("/>");
    else sb.append("><title>").append(Html.escape(tooltip)).append("</title></rect>");
    String text = "";
    if (label != null) {
      int maxChars = (int) Math.floor((w - 8) / 6.2);
      if (maxChars >= 3) {
        String t = label.length() <= maxChars ? label : label.substring(0, maxChars - 1) + "\u2026";
        sb.append("<text x=\"").append(n(x + 3)).append("\" y=\"").append(n(y + 11)).append("\" text-anchor=\"start\" fill=\"")
            .append(labelFill).append("\">").append(Html.escape(t)).append("</text>");
        text = Html.escape(label);
      }
    }
    assert sb.length() > svgStart;
    box(x, y, Math.max(0, w), Math.max(0, h), "background: " + fillColour(fill) + ";"
        + (stroke != null ? " box-sizing: border-box; border: 1px solid " + stroke + ";" : "")
        + (text.isEmpty() ? "" : " color: " + labelFill + "; font-size: 11px; line-height: 12px; padding: 0 0 0 2px; overflow: hidden; "
            + "white-space: nowrap; text-overflow: ellipsis;"), tooltip, text);
    return this;
  }

  Svg line(double x1, double y1, double x2, double y2, String stroke, double strokeWidth, String dash) {
    sb.append("<line x1=\"").append(n(x1)).append("\" y1=\"").append(n(y1)).append("\" x2=\"").append(n(x2)).append("\" y2=\"")
        .append(n(y2)).append("\" stroke=\"").append(stroke).append("\" stroke-width=\"").append(n(strokeWidth)).append('"');
    if (dash != null) sb.append(" stroke-dasharray=\"").append(dash).append('"');
    sb.append("/>");
    htmlLine(x1, y1, x2, y2, stroke, strokeWidth, dash);
    return this;
  }

  /** A polyline through {@code xy} pairs. */
  Svg polyline(double[] xy, String stroke, double strokeWidth, String dash) {
    sb.append("<polyline fill=\"none\" stroke=\"").append(stroke).append("\" stroke-width=\"").append(n(strokeWidth)).append('"');
    if (dash != null) sb.append(" stroke-dasharray=\"").append(dash).append('"');
    sb.append(" points=\"");
    for (int i = 0; i + 1 < xy.length; i += 2) sb.append(i == 0 ? "" : " ").append(n(xy[i])).append(',').append(n(xy[i + 1]));
    sb.append("\"/>");
    for (int i = 0; i + 3 < xy.length; i += 2) htmlLine(xy[i], xy[i + 1], xy[i + 2], xy[i + 3], stroke, strokeWidth, dash);
    return this;
  }

  Svg circle(double cx, double cy, double r, String fill, String tooltip) {
    sb.append("<circle cx=\"").append(n(cx)).append("\" cy=\"").append(n(cy)).append("\" r=\"").append(n(r)).append("\" fill=\"")
        .append(fill).append('"');
    if (tooltip == null) sb.append("/>");
    else sb.append("><title>").append(Html.escape(tooltip)).append("</title></circle>");
    box(cx - r, cy - r, 2 * r, 2 * r, "background: " + fill + "; border-radius: 50%;", tooltip, "");
    return this;
  }

  /** Text; {@code anchor} is start, middle or end; {@code y} is the baseline. */
  Svg text(double x, double y, String text, String anchor, String fill, boolean bold) {
    sb.append("<text x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" text-anchor=\"").append(anchor)
        .append("\" fill=\"").append(fill).append('"');
    if (bold) sb.append(" font-weight=\"600\"");
    sb.append('>').append(Html.escape(text)).append("</text>");
    double top = y - FONT_PX;
    String style = "white-space: nowrap; line-height: 14px; font-size: 11px;" + textColour(fill) + (bold ? " font-weight: 600;" : "");
    switch (anchor) {
      case "end" -> html.append("<div style=\"position: absolute; right: ").append(n(width - x)).append("px; top: ").append(n(top))
          .append("px; ").append(style).append("\">").append(Html.escape(text)).append("</div>");
      case "middle" -> {
        // a box centred on x that stays inside the chart (no transform: the sanitizer drops it)
        double half = Math.max(1, Math.min(200, Math.min(x, width - x)));
        html.append("<div style=\"position: absolute; left: ").append(n(x - half)).append("px; width: ").append(n(2 * half))
            .append("px; top: ").append(n(top)).append("px; text-align: center; ").append(style).append("\">").append(Html.escape(text))
            .append("</div>");
      }
      default -> html.append("<div style=\"position: absolute; left: ").append(n(x)).append("px; top: ").append(n(top)).append("px; ")
          .append(style).append("\">").append(Html.escape(text)).append("</div>");
    }
    return this;
  }

  /** Text clipped to {@code maxWidth} by character count (SVG 1.1 has no ellipsis). */
  Svg fittedText(double x, double y, String text, double maxWidth, String fill) {
    int maxChars = (int) Math.floor(maxWidth / 6.2);
    if (maxChars < 3) return this;
    String t = text.length() <= maxChars ? text : text.substring(0, maxChars - 1) + "\u2026";
    return text(x, y, t, "start", fill, false);
  }

  String end() { return sb + "</svg>"; }

  /**
   * The same chart as positioned {@code <div>}s in a {@code div.kiln-chart} of the chart's size
   * (role img, its label as {@code title} and {@code aria-label}).
   */
  String html() {
    return "<div class=\"kiln-chart\" role=\"img\" aria-label=\"" + Html.escape(label) + "\" title=\"" + Html.escape(label)
        + "\" style=\"position: relative; width: " + n(width) + "px; height: " + n(height) + "px; overflow: hidden; margin: 4px 0; "
        + Html.FONT + "\">" + html + "</div>";
  }

  private void box(double x, double y, double w, double h, String style, String tooltip, String content) {
    html.append("<div style=\"position: absolute; left: ").append(n(x)).append("px; top: ").append(n(y)).append("px; width: ")
        .append(n(w)).append("px; height: ").append(n(h)).append("px; ").append(style).append('"');
    if (tooltip != null) html.append(" title=\"").append(Html.escape(tooltip)).append('"');
    html.append('>').append(content).append("</div>");
  }

  private void htmlLine(double x1, double y1, double x2, double y2, String stroke, double strokeWidth, String dash) {
    String kind = dash == null ? "solid" : dash.startsWith("2") ? "dotted" : "dashed";
    String colour = fillColour(stroke);
    double w = Math.max(1, strokeWidth);
    if (Math.abs(y1 - y2) < 0.01) {
      box(Math.min(x1, x2), y1 - w / 2, Math.abs(x2 - x1), 0, "border-top: " + n(w) + "px " + kind + " " + colour + ";", null, "");
    } else if (Math.abs(x1 - x2) < 0.01) {
      box(x1 - w / 2, Math.min(y1, y2), 0, Math.abs(y2 - y1), "border-left: " + n(w) + "px " + kind + " " + colour + ";", null, "");
    } else {
      throw new IllegalArgumentException("the HTML twin draws horizontal and vertical lines only: (" + n(x1) + ", " + n(y1) + ") to ("
          + n(x2) + ", " + n(y2) + ")");
    }
  }

  /** Near-white fills (backgrounds, stripes, grid lines) as translucent grey, visible on light and dark themes alike. */
  private static String fillColour(String hex) {
    if (!hex.startsWith("#") || (hex.length() != 7 && hex.length() != 4)) return hex;
    String h = hex.length() == 4 ? "" + hex.charAt(1) + hex.charAt(1) + hex.charAt(2) + hex.charAt(2) + hex.charAt(3) + hex.charAt(3)
        : hex.substring(1);
    int r = Integer.parseInt(h.substring(0, 2), 16);
    int g = Integer.parseInt(h.substring(2, 4), 16);
    int b = Integer.parseInt(h.substring(4, 6), 16);
    if (Math.min(r, Math.min(g, b)) < 0xe8) return hex;
    double alpha = Math.max(0.03, (255 - (r + g + b) / 3.0) / 255.0 * 2.5);
    return String.format(Locale.ROOT, "rgba(128, 128, 128, %.2f)", Math.min(0.35, alpha));
  }

  /** Theme-grey text follows the theme (the var is dropped untrusted: the text inherits); other colours stay. */
  private static String textColour(String fill) {
    if (THEMED.contains(fill.toLowerCase(Locale.ROOT))) {
      return " color: var(--jp-ui-font-color" + (fill.startsWith("#3") || fill.startsWith("#2") ? "1" : "2") + ", " + fill + ");";
    }
    return " color: " + fill + ";";
  }

  /** Coordinates with at most two decimals, dot as separator whatever the locale. */
  static String n(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e9) return Long.toString((long) v);
    return String.format(Locale.ROOT, "%.2f", v);
  }
}
