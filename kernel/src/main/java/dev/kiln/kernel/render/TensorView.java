package dev.kiln.kernel.render;

import dev.kiln.api.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.kernel.display.MimeBundle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * A tensor: its values as a table (a 2-D grid, shaded by value, when its shape squeezes to two
 * dimensions, e.g. an {@code [1, 8, 8, 1]} image; else rows of 16), and for a classifier-shaped
 * tensor ({@code [1, N]} or {@code [N]}, 2 <= N <= 1000) a bar chart of the top classes.
 */
public final class TensorView {
  static final int TOP = 10;
  static final int ROW = 16;
  static final int MAX_VALUES = 256;
  static final int MAX_GRID = 64;

  private TensorView() {}

  public static MimeBundle render(Tensor t) {
    double[] v = values(t);
    Svg chart = isClassifier(t) ? barChart(t, v) : null;
    StringBuilder sb = new StringBuilder();
    sb.append("<div style=\"").append(Html.FONT).append("\"><b>Tensor</b> ").append(Html.code(ModelView.shape(t.shape())))
        .append(' ').append(Html.code(t.dtype())).append(" <span style=\"").append(Html.MUTED).append("\">")
        .append(Html.escape(stats(t, v))).append("</span></div>");
    if (chart != null) sb.append(chart.html());
    int[] grid = grid(t.shape());
    if (grid != null) {
      sb.append(Html.table(gridTable(t, v, grid[0], grid[1]), shade(v, grid[1])));
    } else {
      sb.append(Html.table(rowsTable(t, v)));
      if (v.length > MAX_VALUES) {
        sb.append("<div style=\"").append(Html.MUTED).append("\">").append(Html.escape(String.format(Locale.ROOT,
            "showing the first %d of %,d values", MAX_VALUES, v.length))).append("</div>");
      }
    }
    MimeBundle bundle = MimeBundle.html(Html.root("tensor", sb.toString())).withText(text(t, v));
    return chart != null ? bundle.withSvg(chart.end()) : bundle;
  }

  /** {@code [1, N]}, {@code [N]} or {@code [1, 1, N]}: one axis of 2..1000 classes. */
  public static boolean isClassifier(Tensor t) {
    int[] s = t.shape();
    int big = 0;
    int n = 0;
    for (int d : s) {
      if (d != 1) {
        big++;
        n = d;
      }
    }
    return big == 1 && n >= 2 && n <= 1000 && s[s.length - 1] == n;
  }

  /** The {@code k} largest values' indices, largest first (ties: lower index first). */
  public static int[] topClasses(Tensor t, int k) {
    double[] v = values(t);
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < v.length; i++) idx.add(i);
    idx.sort(Comparator.comparingDouble((Integer i) -> -v[i]).thenComparingInt(i -> i));
    return idx.stream().limit(Math.min(k, v.length)).mapToInt(Integer::intValue).toArray();
  }

  static Svg barChart(Tensor t, double[] v) {
    int[] top = topClasses(t, TOP);
    double lo;
    double hi;
    switch (t.dtype()) {
      case INT8 -> { lo = -128; hi = 127; }
      case UINT8 -> { lo = 0; hi = 255; }
      default -> {
        double min = 0;
        double max = 0;
        for (double x : v) {
          min = Math.min(min, x);
          max = Math.max(max, x);
        }
        lo = min;
        hi = max > lo ? max : lo + 1;
      }
    }
    double labelW = 70;
    double barW = 260;
    double rowH = 20;
    double top0 = 26;
    double width = labelW + barW + 90;
    double height = top0 + top.length * rowH + 8;
    String title = "top " + top.length + " of " + v.length + " classes" + (t.dtype() == DType.INT8 || t.dtype() == DType.UINT8
        ? " (raw " + t.dtype() + "; dequantize for probabilities)" : "");
    Svg svg = new Svg(width, height, "bar chart: " + title);
    svg.text(4, 16, title, "start", Svg.INK, true);
    for (int r = 0; r < top.length; r++) {
      int c = top[r];
      double y = top0 + r * rowH;
      double len = Math.max(1, (v[c] - lo) / (hi - lo) * barW);
      svg.text(labelW - 6, y + 13, "class " + c, "end", Svg.INK, r == 0);
      svg.rect(labelW, y + 2, len, rowH - 6, r == 0 ? "#2e75b6" : "#9dc3e6", null,
          "class " + c + ": " + format(t.dtype(), v[c]));
      svg.text(labelW + len + 4, y + 13, format(t.dtype(), v[c]), "start", Svg.INK, false);
    }
    return svg;
  }

  /** The shape without its 1s, when that is two dimensions small enough for a grid: {rows, cols}. */
  static int[] grid(int[] shape) {
    List<Integer> dims = new ArrayList<>();
    for (int d : shape) if (d != 1) dims.add(d);
    if (dims.size() != 2) return null;
    int rows = dims.get(0);
    int cols = dims.get(1);
    return rows <= MAX_GRID && cols <= 32 ? new int[] {rows, cols} : null;
  }

  static Table gridTable(Tensor t, double[] v, int rows, int cols) {
    StringColumn index = StringColumn.create("row");
    List<StringColumn> columns = new ArrayList<>();
    for (int c = 0; c < cols; c++) columns.add(StringColumn.create(Integer.toString(c)));
    for (int r = 0; r < rows; r++) {
      index.append(Integer.toString(r));
      for (int c = 0; c < cols; c++) columns.get(c).append(format(t.dtype(), v[r * cols + c]));
    }
    Table table = Table.create("values", index);
    columns.forEach(table::addColumns);
    return table;
  }

  /** Background shading of grid cells (column 0 is the row index). */
  private static java.util.function.BiFunction<Integer, Integer, String> shade(double[] v, int cols) {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (double x : v) {
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    double lo = min;
    double span = max > min ? max - min : 1;
    return (r, c) -> {
      if (c == 0) return Html.MUTED;
      double f = (v[r * cols + (c - 1)] - lo) / span;
      int level = (int) Math.round(255 - f * 150);
      // the text colour is always set with the shade (so a cell reads the same in a dark theme),
      // black or white, whichever contrasts more with it
      int green = Math.min(255, level + 20);
      return String.format(Locale.ROOT, "background: rgb(%d, %d, 255); color: %s;", level, green,
          darkTextReads(level, green, 255) ? "#111111" : "#ffffff");
    };
  }

  /** True when near-black text contrasts more with this background than white text does (WCAG relative luminance). */
  static boolean darkTextReads(int r, int g, int b) {
    double l = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    double withBlack = (l + 0.05) / (linear(0x11) + 0.05);
    double withWhite = 1.05 / (l + 0.05);
    return withBlack >= withWhite;
  }

  private static double linear(int channel) {
    double v = channel / 255.0;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  }

  static Table rowsTable(Tensor t, double[] v) {
    int n = Math.min(v.length, MAX_VALUES);
    int cols = Math.min(ROW, Math.max(1, n));
    StringColumn offset = StringColumn.create("index");
    List<StringColumn> columns = new ArrayList<>();
    for (int c = 0; c < cols; c++) columns.add(StringColumn.create(n <= ROW ? Integer.toString(c) : "+" + c));
    for (int start = 0; start < n; start += cols) {
      offset.append(n <= ROW ? "value" : Integer.toString(start));
      for (int c = 0; c < cols; c++) columns.get(c).append(start + c < n ? format(t.dtype(), v[start + c]) : "");
    }
    Table table = Table.create("values", offset);
    columns.forEach(table::addColumns);
    return table;
  }

  static String stats(Tensor t, double[] v) {
    if (v.length == 0) return "empty";
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (double x : v) {
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    return String.format(Locale.ROOT, "%,d values, min %s, max %s, argmax %d%s", v.length, format(t.dtype(), min),
        format(t.dtype(), max), t.argmax(), coordinates(t.shape(), t.argmax()));
  }

  /**
   * Where flat index {@code i} sits: {@code  = (row 2, col 5)} for a tensor that squeezes to a grid
   * (the grid's row and column, as the table shows them), {@code  = [0, 2, 5, 1]} for other tensors
   * of rank 2 or more, nothing for a vector.
   */
  static String coordinates(int[] shape, int i) {
    int[] grid = grid(shape);
    if (grid != null) return String.format(Locale.ROOT, " = (row %d, col %d)", i / grid[1], i % grid[1]);
    int big = 0;
    for (int d : shape) if (d != 1) big++;
    if (big < 2) return "";
    int[] at = new int[shape.length];
    int rest = i;
    for (int k = shape.length - 1; k >= 0; k--) {
      at[k] = shape[k] == 0 ? 0 : rest % shape[k];
      rest = shape[k] == 0 ? 0 : rest / shape[k];
    }
    return " = " + java.util.Arrays.toString(at);
  }

  static String text(Tensor t, double[] v) {
    StringBuilder sb = new StringBuilder(t.toString()).append('\n').append('[');
    int n = Math.min(v.length, 64);
    for (int i = 0; i < n; i++) sb.append(i == 0 ? "" : ", ").append(format(t.dtype(), v[i]));
    if (v.length > n) sb.append(", ... (").append(v.length).append(" values)");
    sb.append(']');
    if (isClassifier(t)) {
      sb.append("\ntop classes:");
      for (int c : topClasses(t, Math.min(5, v.length))) sb.append(' ').append(c).append('=').append(format(t.dtype(), v[c]));
    }
    return sb.toString();
  }

  static String format(DType d, double x) {
    if (d == DType.FLOAT32) {
      if (x == 0) return "0";
      double a = Math.abs(x);
      return a >= 1e-3 && a < 1e5 ? trim(String.format(Locale.ROOT, "%.6f", x)) : String.format(Locale.ROOT, "%.4e", x);
    }
    return Long.toString((long) x);
  }

  private static String trim(String s) {
    if (!s.contains(".")) return s;
    s = s.replaceAll("0+$", "");
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }

  /** Every element as a double, in row-major order. */
  static double[] values(Tensor t) {
    ByteBuffer b = ByteBuffer.wrap(t.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    int n = (int) t.elements();
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = switch (t.dtype()) {
        case FLOAT32 -> b.getFloat(i * 4);
        case INT8 -> b.get(i);
        case UINT8, BOOL -> b.get(i) & 0xff;
        case INT16 -> b.getShort(i * 2);
        case INT32 -> b.getInt(i * 4);
        case INT64 -> b.getLong(i * 8);
      };
    }
    return out;
  }
}
