package dev.kiln.kernel.render;

import dev.kiln.api.Comparison;
import dev.kiln.kernel.display.Display;
import dev.kiln.kernel.display.MimeBundle;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * A {@link Comparison} in a notebook as two outputs: the table (HTML whose bars are HTML/CSS only,
 * so a sanitizer that strips SVG leaves them drawn; text inherits the theme's colour) and the chart
 * as an image of its own: {@code image/svg+xml} for trusted notebooks and nbconvert, {@code image/png}
 * for untrusted JupyterLab, which shows only images it can trust. {@code text/plain} carries the
 * table for consoles. Outside a kernel, one bundle with all of it.
 */
public final class ComparisonView {
  private static final int SCALE = 2;

  private ComparisonView() {}

  public static MimeBundle render(Comparison c) {
    if (Display.isLive()) {
      Display.display(table(c));
      return chart(c);
    }
    return table(c).withSvg(c.chartSvg()).withPng(png(c)).withText(c.toString());
  }

  /** The table: HTML with CSS bars; text/plain its first line (the chart output carries the whole table as text). */
  public static MimeBundle table(Comparison c) {
    return MimeBundle.html(c.toHtmlFragment()).withText(c.toString().lines().findFirst().orElse(""));
  }

  /** The chart as SVG and PNG (drawn at twice its size, shown at its own), with the table as text. */
  public static MimeBundle chart(Comparison c) {
    return MimeBundle.svg(c.chartSvg()).withPng(png(c)).withMetadata(MimeBundle.IMAGE_PNG, Map.of("width", WIDTH)).withText(c.toString());
  }

  private static final int WIDTH = 680;

  /** The same two panels as {@link Comparison#chartSvg()}: latency (median, min-max) and flash split per row, on white. */
  static byte[] png(Comparison c) {
    List<Comparison.Row> timed = c.rows().stream().filter(r -> r.latencyMedianUs() != null).toList();
    List<Comparison.Row> sized = c.rows().stream().filter(r -> r.flashBytes() != null).toList();
    int rowH = 18;
    int labelW = 270;
    int plotW = WIDTH - labelW - 90;
    int h = 10 + (timed.isEmpty() ? 0 : 24 + timed.size() * rowH + 10) + (sized.isEmpty() ? 0 : 24 + sized.size() * rowH + 10)
        + (timed.isEmpty() && sized.isEmpty() ? 30 : 0);
    BufferedImage image = new BufferedImage(WIDTH * SCALE, h * SCALE, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.scale(SCALE, SCALE);
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, h);
      Font plain = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
      Font bold = plain.deriveFont(Font.BOLD);
      Color ink = new Color(0x1a1a1a);
      double y = 10;
      if (timed.isEmpty() && sized.isEmpty()) text(g, plain, ink, "nothing timed or sized (runs(0), or every row failed)", 10, 24, false);
      if (!timed.isEmpty()) {
        double max = Math.max(1e-9, timed.stream().mapToDouble(Comparison.Row::latencyMaxUs).max().orElse(1));
        text(g, bold, ink, "device latency, us (median; min-max)", 0, y + 12, false);
        y += 24;
        for (Comparison.Row r : timed) {
          double s = plotW / max;
          text(g, plain, ink, label(r), labelW - 6, y + 12, true);
          g.setColor(Color.decode("#4e79a7"));
          g.fill(new java.awt.geom.Rectangle2D.Double(labelW, y + 2, Math.max(1, r.latencyMedianUs() * s), 12));
          g.setColor(Color.decode("#9c9c9c"));
          g.setStroke(new BasicStroke(2));
          g.draw(new java.awt.geom.Line2D.Double(labelW + r.latencyMinUs() * s, y + 8, labelW + r.latencyMaxUs() * s, y + 8));
          text(g, plain, ink, String.format(Locale.ROOT, "%.2f", r.latencyMedianUs()), labelW + r.latencyMaxUs() * s + 4, y + 12, false);
          y += rowH;
        }
        y += 10;
      }
      if (!sized.isEmpty()) {
        long max = Math.max(1, sized.stream().mapToLong(Comparison.Row::flashBytes).max().orElse(1));
        text(g, bold, ink, "flash, bytes (code, weights, operator parameters, other)", 0, y + 12, false);
        y += 24;
        for (Comparison.Row r : sized) {
          double s = (double) plotW / max;
          text(g, plain, ink, label(r), labelW - 6, y + 12, true);
          long other = Math.max(0, r.flashBytes() - r.codeBytes() - r.weightsBytes() - r.paramsBytes());
          long[] parts = {r.codeBytes(), r.weightsBytes(), r.paramsBytes(), other};
          String[] colors = {"#4e79a7", "#f28e2b", "#59a14f", "#9c9c9c"};
          double x = labelW;
          for (int i = 0; i < parts.length; i++) {
            g.setColor(Color.decode(colors[i]));
            g.fill(new java.awt.geom.Rectangle2D.Double(x, y + 2, parts[i] * s, 12));
            x += parts[i] * s;
          }
          text(g, plain, ink, Long.toString(r.flashBytes()), x + 4, y + 12, false);
          y += rowH;
        }
      }
    } finally {
      g.dispose();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(image, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException("could not encode the comparison chart as PNG", e);
    }
    return out.toByteArray();
  }

  private static void text(Graphics2D g, Font font, Color color, String s, double x, double baseline, boolean rightAligned) {
    g.setFont(font);
    g.setColor(color);
    FontMetrics m = g.getFontMetrics();
    g.drawString(s, (float) (rightAligned ? x - m.stringWidth(s) : x), (float) baseline);
  }

  private static String label(Comparison.Row r) { return r.model() + " · " + r.executor() + " · " + r.device(); }
}
