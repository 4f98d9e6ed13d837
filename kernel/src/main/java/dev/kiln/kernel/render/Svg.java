package dev.kiln.kernel.render;

import java.util.Locale;

/**
 * A minimal SVG writer: a standalone {@code <svg>} document (it carries its own namespace, so the
 * same text works as {@code image/svg+xml} and inlined in HTML) with shapes and escaped text.
 * No scripts, no external fonts or links: charts render offline.
 */
final class Svg {
  static final String FONT = "font-family=\"-apple-system, 'Segoe UI', Roboto, Arial, sans-serif\"";

  private final StringBuilder sb = new StringBuilder();
  private final double width;
  private final double height;

  Svg(double width, double height, String label) {
    this.width = width;
    this.height = height;
    sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"kiln-svg\" width=\"").append(n(width))
        .append("\" height=\"").append(n(height)).append("\" viewBox=\"0 0 ").append(n(width)).append(' ').append(n(height))
        .append("\" role=\"img\" aria-label=\"").append(Html.escape(label)).append("\" ").append(FONT).append(" font-size=\"11\">");
    sb.append("<title>").append(Html.escape(label)).append("</title>");
    rect(0, 0, width, height, "#ffffff", null, null);
  }

  double width() { return width; }

  double height() { return height; }

  /** A rectangle; {@code tooltip} (may be null) shows on hover. */
  Svg rect(double x, double y, double w, double h, String fill, String stroke, String tooltip) {
    sb.append("<rect x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" width=\"").append(n(Math.max(0, w)))
        .append("\" height=\"").append(n(Math.max(0, h))).append("\" fill=\"").append(fill).append('"');
    if (stroke != null) sb.append(" stroke=\"").append(stroke).append("\" stroke-width=\"1\"");
    if (tooltip == null) return append("/>");
    return append("><title>" + Html.escape(tooltip) + "</title></rect>");
  }

  Svg line(double x1, double y1, double x2, double y2, String stroke, double strokeWidth, String dash) {
    sb.append("<line x1=\"").append(n(x1)).append("\" y1=\"").append(n(y1)).append("\" x2=\"").append(n(x2)).append("\" y2=\"")
        .append(n(y2)).append("\" stroke=\"").append(stroke).append("\" stroke-width=\"").append(n(strokeWidth)).append('"');
    if (dash != null) sb.append(" stroke-dasharray=\"").append(dash).append('"');
    return append("/>");
  }

  /** A polyline through {@code xy} pairs. */
  Svg polyline(double[] xy, String stroke, double strokeWidth, String dash) {
    sb.append("<polyline fill=\"none\" stroke=\"").append(stroke).append("\" stroke-width=\"").append(n(strokeWidth)).append('"');
    if (dash != null) sb.append(" stroke-dasharray=\"").append(dash).append('"');
    sb.append(" points=\"");
    for (int i = 0; i + 1 < xy.length; i += 2) sb.append(i == 0 ? "" : " ").append(n(xy[i])).append(',').append(n(xy[i + 1]));
    return append("\"/>");
  }

  Svg circle(double cx, double cy, double r, String fill, String tooltip) {
    sb.append("<circle cx=\"").append(n(cx)).append("\" cy=\"").append(n(cy)).append("\" r=\"").append(n(r)).append("\" fill=\"")
        .append(fill).append('"');
    if (tooltip == null) return append("/>");
    return append("><title>" + Html.escape(tooltip) + "</title></circle>");
  }

  /** Text; {@code anchor} is start, middle or end. */
  Svg text(double x, double y, String text, String anchor, String fill, boolean bold) {
    sb.append("<text x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" text-anchor=\"").append(anchor)
        .append("\" fill=\"").append(fill).append('"');
    if (bold) sb.append(" font-weight=\"600\"");
    return append(">" + Html.escape(text) + "</text>");
  }

  /** Text clipped to {@code maxWidth} by character count (SVG 1.1 has no ellipsis). */
  Svg fittedText(double x, double y, String text, double maxWidth, String fill) {
    int maxChars = (int) Math.floor(maxWidth / 6.2);
    if (maxChars < 3) return this;
    String t = text.length() <= maxChars ? text : text.substring(0, maxChars - 1) + "\u2026";
    return text(x, y, t, "start", fill, false);
  }

  private Svg append(String s) {
    sb.append(s);
    return this;
  }

  String end() { return sb + "</svg>"; }

  /** Coordinates with at most two decimals, dot as separator whatever the locale. */
  static String n(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e9) return Long.toString((long) v);
    return String.format(Locale.ROOT, "%.2f", v);
  }
}
