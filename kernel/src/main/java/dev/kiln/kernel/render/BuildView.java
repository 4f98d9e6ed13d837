package dev.kiln.kernel.render;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.api.Build;
import dev.kiln.api.Executor;
import dev.kiln.compile.MemoryPlan;
import dev.kiln.kernel.display.MimeBundle;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * A build: its executor and options, the arena against its lower bound (with the memory-plan
 * timeline), the generated files and the complete metadata. Flash size is not shown: it needs a
 * compiler run, too slow for a display ({@code int8-vs-float.ipynb} measures it).
 */
public final class BuildView {
  private BuildView() {}

  public static MimeBundle render(Build b) {
    return MimeBundle.html(html(b)).withText(text(b));
  }

  static String text(Build b) {
    MemoryPlan p = b.memoryPlan();
    return b.model().name() + " for " + b.executor() + "\n"
        + "  entry point " + b.entryPoint() + ", " + b.sources().size() + " generated files\n"
        + String.format(Locale.ROOT, "  arena %d B, lower bound %d B (x%.3f), greedy %d B; weights %d B%n", p.arenaBytes(),
            p.lowerBoundBytes(), p.ratioToLowerBound(), p.greedyBytes(), b.model().weightBytes());
  }

  static String html(Build b) {
    StringBuilder sb = new StringBuilder();
    sb.append("<div style=\"").append(Html.FONT).append("\"><b>").append(Html.escape(b.model().name())).append("</b> for ")
        .append(Html.code(b.executor())).append("</div>");
    sb.append("<div style=\"display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start;\">");
    sb.append("<div>").append(Html.table(optionsTable(b))).append("</div>");
    sb.append("<div>").append(Html.table(memoryTable(b))).append("</div>");
    sb.append("</div>");
    // The plan's operator indices are the compiled graph's (after its passes), not the model file's.
    sb.append(MemoryPlanView.inline(b.memoryPlan(), b.compiled().graph().ops().stream().map(o -> o.type().name()).toList()));
    StringColumn path = StringColumn.create("file");
    IntColumn size = IntColumn.create("bytes");
    for (Map.Entry<String, String> e : b.sources().entrySet()) {
      path.append(e.getKey());
      size.append(e.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
    }
    sb.append(Html.details("generated files (" + path.size() + ")", Html.table(Table.create("", path, size))));
    ObjectNode meta = b.metadata();
    sb.append(Html.details("metadata (complete)", Html.pre(meta.toPrettyString())));
    return Html.root("build", sb.toString());
  }

  /** Executor, interface, calling convention, module name, entry point. */
  public static Table optionsTable(Build b) {
    Executor e = b.executor();
    StringColumn key = StringColumn.create("option");
    StringColumn value = StringColumn.create("value");
    List<String[]> rows = new java.util.ArrayList<>(List.of(
        new String[] {"executor", e.kind().name().toLowerCase(Locale.ROOT)},
        new String[] {"interface-api", e.interfaceApi()},
        new String[] {"unpacked-api", Boolean.toString(e.unpackedApi())},
        new String[] {"module name", e.moduleName()},
        new String[] {"entry point", b.entryPoint()}));
    if (!b.graphJsonTransfer().isEmpty()) rows.add(new String[] {"graph JSON on boards", b.graphJsonTransfer()});
    for (String[] r : rows) {
      key.append(r[0]);
      value.append(r[1]);
    }
    return Table.create("executor and options", key, value);
  }

  /** Arena, lower bound, greedy plan, the same with model I/O in the arena, and weights. */
  public static Table memoryTable(Build b) {
    MemoryPlan p = b.memoryPlan();
    MemoryPlan io = b.compiled().memoryPlanWithIo();
    StringColumn key = StringColumn.create("memory");
    StringColumn value = StringColumn.create("bytes");
    String[][] rows = {
        {"arena", String.format(Locale.ROOT, "%,d", p.arenaBytes())},
        {"lower bound", String.format(Locale.ROOT, "%,d", p.lowerBoundBytes())},
        {"arena / lower bound", String.format(Locale.ROOT, "x%.3f", p.ratioToLowerBound())},
        {"greedy (first-fit by size)", String.format(Locale.ROOT, "%,d", p.greedyBytes())},
        {"with I/O in the arena", String.format(Locale.ROOT, "%,d (bound %,d)", io.arenaBytes(), io.lowerBoundBytes())},
        {"weights (constants)", String.format(Locale.ROOT, "%,d", b.model().weightBytes())},
    };
    for (String[] r : rows) {
      key.append(r[0]);
      value.append(r[1]);
    }
    return Table.create("memory", key, value);
  }
}
