package dev.kiln.kernel.render;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.kernel.display.MimeBundle;
import dev.kiln.kernel.display.Renderers;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Display helpers for comparisons in a notebook, imported in every kernel session:
 *
 * <pre>{@code
 * Show.sideBySide("graph", graph.metadata(), "aot", aot.metadata())   // one table, differing rows marked
 * Show.sideBySide("graph", graph.memoryPlan(), "aot", aot.memoryPlan()) // each value's own display, in a row
 * Show.table("model", "accuracy", "arena").row("int8", "3/3", 640).row("float", "3/3", 2560)
 * }</pre>
 *
 * Presentation only: the values come from the Kiln API, these lay them out.
 */
public final class Show {
  private static final String DIFFERS = Html.MARKED;

  private Show() {}

  /**
   * Values under their labels, in a row: {@code sideBySide("graph", a, "aot", b, ...)}. JSON values
   * (metadata) become one table, a row per field and a column per label, with the rows that
   * differ marked; anything else is shown by its own renderer.
   */
  public static MimeBundle sideBySide(Object... labelsAndValues) {
    if (labelsAndValues.length == 0 || labelsAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("sideBySide takes label, value pairs: (\"graph\", a, \"aot\", b); got "
          + labelsAndValues.length + " arguments");
    }
    List<String> labels = new ArrayList<>();
    List<Object> values = new ArrayList<>();
    for (int i = 0; i < labelsAndValues.length; i += 2) {
      if (!(labelsAndValues[i] instanceof String label)) {
        throw new IllegalArgumentException("argument " + i + " must be a label (a String), not " + labelsAndValues[i]);
      }
      labels.add(label);
      values.add(labelsAndValues[i + 1]);
    }
    if (values.stream().allMatch(v -> v instanceof JsonNode)) return jsonComparison(labels, values);
    // Side by side at any width: the columns share the row equally and each scrolls sideways
    // when its content (a chart has a fixed width) is wider than its share; they never wrap.
    StringBuilder html = new StringBuilder("<div class=\"kiln-side-by-side\" style=\"display: flex; flex-wrap: nowrap; gap: 16px; "
        + "align-items: flex-start; width: 100%;\">");
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < labels.size(); i++) {
      MimeBundle b = Renderers.render(values.get(i));
      html.append("<div class=\"kiln-side\" style=\"flex: 1 1 0px; min-width: 0; overflow-x: auto;\"><div style=\"font-weight: 600; ")
          .append(Html.FONT).append("\">")
          .append(Html.escape(labels.get(i))).append("</div>").append(htmlOf(b)).append("</div>");
      text.append(i == 0 ? "" : "\n").append("== ").append(labels.get(i)).append(" ==\n").append(b.data().get(MimeBundle.TEXT_PLAIN));
    }
    html.append("</div>");
    return MimeBundle.html(html.toString()).withText(text.toString());
  }

  private static String htmlOf(MimeBundle b) {
    Object html = b.data().get(MimeBundle.TEXT_HTML);
    if (html != null) return html.toString();
    Object svg = b.data().get(MimeBundle.IMAGE_SVG);
    if (svg != null) return svg.toString();
    return Html.pre(String.valueOf(b.data().get(MimeBundle.TEXT_PLAIN)));
  }

  private static MimeBundle jsonComparison(List<String> labels, List<Object> values) {
    List<Map<String, String>> flat = new ArrayList<>();
    Set<String> paths = new LinkedHashSet<>();
    for (Object v : values) {
      Map<String, String> m = new LinkedHashMap<>();
      flatten("", (JsonNode) v, m);
      flat.add(m);
      paths.addAll(m.keySet());
    }
    StringColumn field = StringColumn.create("field");
    List<StringColumn> columns = new ArrayList<>();
    for (String l : labels) columns.add(StringColumn.create(l));
    List<Boolean> differs = new ArrayList<>();
    int different = 0;
    for (String p : paths) {
      field.append(p);
      Set<String> distinct = new LinkedHashSet<>();
      for (int i = 0; i < labels.size(); i++) {
        String v = flat.get(i).get(p);
        columns.get(i).append(v == null ? "(absent)" : v);
        distinct.add(Objects.toString(v));
      }
      differs.add(distinct.size() > 1);
      if (distinct.size() > 1) different++;
    }
    Table t = Table.create(String.format(java.util.Locale.ROOT, "%d fields, %d differ (marked)", paths.size(), different), field);
    columns.forEach(t::addColumns);
    String html = Html.root("comparison", Html.table(t, (r, c) -> differs.get(r) ? DIFFERS : null));
    StringBuilder text = new StringBuilder();
    int r = 0;
    for (String p : paths) {
      text.append(differs.get(r++) ? "* " : "  ").append(p);
      for (int i = 0; i < labels.size(); i++) text.append(" | ").append(labels.get(i)).append('=').append(flat.get(i).get(p));
      text.append('\n');
    }
    return MimeBundle.html(html).withText(text.toString());
  }

  /** Objects by dotted path; arrays of scalars stay one value ({@code [1, 8, 8, 1]}), other arrays by index. */
  static void flatten(String prefix, JsonNode node, Map<String, String> out) {
    if (node.isObject()) {
      node.fields().forEachRemaining(e -> flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out));
    } else if (node.isArray()) {
      boolean scalars = true;
      for (JsonNode n : node) scalars &= n.isValueNode();
      if (scalars) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < node.size(); i++) sb.append(i == 0 ? "" : ", ").append(node.get(i).asText());
        out.put(prefix, sb.append(']').toString());
      } else {
        for (int i = 0; i < node.size(); i++) flatten(prefix + "[" + i + "]", node.get(i), out);
      }
    } else {
      out.put(prefix, node.isNull() ? "null" : node.asText());
    }
  }

  /**
   * A double for a table cell: at most four decimals, trailing zeros dropped ({@code 0.3},
   * {@code 12.3457}, {@code 3}); very small or very large magnitudes in scientific notation
   * ({@code 1.235e-07}); NaN and infinities as Java prints them.
   */
  public static String number(double x) {
    if (Double.isNaN(x) || Double.isInfinite(x)) return Double.toString(x);
    if (x == 0) return "0";
    double a = Math.abs(x);
    if (a < 1e-3 || a >= 1e9) return String.format(java.util.Locale.ROOT, "%.3e", x);
    String s = new java.math.BigDecimal(x).setScale(4, java.math.RoundingMode.HALF_EVEN).stripTrailingZeros().toPlainString();
    return s.equals("-0") ? "0" : s;
  }

  /** Starts a table with these column names; add rows with {@link Rows#row}. Shows as an HTML table. */
  public static Rows table(String... columns) {
    return new Rows(columns);
  }

  /** A small table built row by row in a cell (a Tablesaw {@link Table} underneath). */
  public static final class Rows {
    private final List<StringColumn> columns = new ArrayList<>();
    private String title = "";

    private Rows(String... names) {
      if (names.length == 0) throw new IllegalArgumentException("a table needs at least one column");
      for (String n : names) columns.add(StringColumn.create(n));
    }

    /**
     * Adds a row: one value per column, shown by {@code String.valueOf}, except floating-point
     * numbers, shown by {@link Show#number} ({@code 0.1 + 0.2} reads {@code 0.3}).
     */
    public Rows row(Object... cells) {
      if (cells.length != columns.size()) {
        throw new IllegalArgumentException("row has " + cells.length + " values, the table has " + columns.size() + " columns: "
            + columns.stream().map(StringColumn::name).toList());
      }
      for (int i = 0; i < cells.length; i++) {
        Object c = cells[i];
        columns.get(i).append(c instanceof Double || c instanceof Float ? number(((Number) c).doubleValue()) : String.valueOf(c));
      }
      return this;
    }

    /** A caption above the table. */
    public Rows title(String caption) {
      this.title = caption == null ? "" : caption;
      return this;
    }

    /** The rows as a Tablesaw table (a copy). */
    public Table table() {
      Table t = Table.create(title);
      columns.forEach(c -> t.addColumns(c.copy()));
      return t;
    }

    /** The value in {@code row} under {@code column}. */
    public String get(int row, String column) {
      return table().stringColumn(column).get(row);
    }

    public int rowCount() { return columns.get(0).size(); }

    @Override public String toString() { return printed(table()); }
  }

  static MimeBundle render(Rows rows) {
    Table t = rows.table();
    return MimeBundle.html(Html.root("table", Html.table(t))).withText(printed(t));
  }

  static MimeBundle render(Table t) {
    return MimeBundle.html(Html.root("table", Html.table(t))).withText(printed(t));
  }

  /** Tablesaw's text form, every row, without the blank title line of an untitled table. */
  static String printed(Table t) {
    String p = t.printAll();
    return t.name() == null || t.name().isBlank() ? p.replaceFirst("^[ \\t]*\\R", "") : p;
  }

  static MimeBundle render(JsonNode node) {
    String pretty = node.toPrettyString();
    return MimeBundle.html(Html.root("json", Html.pre(pretty))).withText(pretty);
  }
}
