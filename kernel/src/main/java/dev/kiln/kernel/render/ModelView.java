package dev.kiln.kernel.render;

import dev.kiln.api.Model;
import dev.kiln.api.TensorInfo;
import dev.kiln.ir.OpType;
import dev.kiln.kernel.display.MimeBundle;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/** A loaded model: inputs and outputs with both names, shapes, dtypes and quantization; ops; weights. */
public final class ModelView {
  private ModelView() {}

  public static MimeBundle render(Model m) {
    return MimeBundle.html(html(m)).withText(m.summary());
  }

  static String html(Model m) {
    StringBuilder sb = new StringBuilder();
    long constants = m.graph().tensors().stream().filter(dev.kiln.ir.Tensor::isConstant).count();
    sb.append("<div style=\"").append(Html.FONT).append("\"><b>").append(Html.escape(m.name())).append("</b> ")
        .append("<span style=\"").append(Html.MUTED).append("\">").append(Html.escape(m.format())).append(", ")
        .append(m.ops().size()).append(" ops, weights ").append(Html.escape(Html.bytes(m.weightBytes()))).append(" in ")
        .append(constants).append(" constant tensors</span></div>");
    sb.append("<div style=\"").append(Html.MUTED).append(" font-size: 12px;\">").append(Html.escape(m.source())).append("</div>");
    sb.append(Html.table(ioTable(m)));
    sb.append(Html.table(opTable(m)));
    String sequence = m.ops().stream().map(o -> o.type().name()).collect(Collectors.joining(" \u2192 "));
    sb.append(Html.details("operator sequence (" + m.ops().size() + ")", Html.pre(sequence)));
    return Html.root("model", sb.toString());
  }

  /** One row per input and output: role, index, model name, C name, aliases, shape, dtype, quantization, bytes. */
  public static Table ioTable(Model m) {
    StringColumn role = StringColumn.create("role");
    IntColumn index = IntColumn.create("#");
    StringColumn name = StringColumn.create("model name");
    StringColumn cName = StringColumn.create("C name");
    StringColumn aliases = StringColumn.create("aliases");
    StringColumn shape = StringColumn.create("shape");
    StringColumn dtype = StringColumn.create("dtype");
    StringColumn scale = StringColumn.create("scale");
    StringColumn zero = StringColumn.create("zero point");
    IntColumn bytes = IntColumn.create("bytes");
    for (String kind : new String[] {"input", "output"}) {
      List<TensorInfo> infos = kind.equals("input") ? m.inputs() : m.outputs();
      for (TensorInfo t : infos) {
        role.append(kind);
        index.append(t.index());
        name.append(t.name());
        cName.append(t.cName());
        aliases.append(String.join(", ", t.aliases()));
        shape.append(shape(t.shape()));
        dtype.append(t.dtype());
        scale.append(t.isQuantized() ? Float.toString(t.scale()) : "\u2014");
        zero.append(t.isQuantized() ? Integer.toString(t.zeroPoint()) : "\u2014");
        bytes.append(t.bytes());
      }
    }
    return Table.create("inputs and outputs", role, index, name, cName, aliases, shape, dtype, scale, zero, bytes);
  }

  /** Operator types and how many of each. */
  public static Table opTable(Model m) {
    StringColumn type = StringColumn.create("operator");
    IntColumn count = IntColumn.create("count");
    Map<OpType, Integer> counts = new TreeMap<>(m.opCounts());
    counts.forEach((k, v) -> {
      type.append(k.name());
      count.append(v);
    });
    return Table.create("operators", type, count);
  }

  /** {@code [1,8,8,1]}, as {@code kiln info} and the toolkit's messages write shapes. */
  static String shape(int[] shape) { return dev.kiln.ir.Shape.toString(shape); }

  static String plural(long n, String word) {
    return String.format(Locale.ROOT, "%d %s%s", n, word, n == 1 ? "" : "s");
  }
}
