package dev.kiln.kernel.render;

import dev.kiln.kernel.display.MimeBundle;
import dev.kiln.project.ProgramMemory;
import java.util.Locale;

/**
 * Flash and RAM of a device program from its ELF: one table, each part with an HTML/CSS bar of its
 * share of flash or of static RAM (no SVG, so it shows in untrusted notebooks), and the stack
 * high-water when the device measured it.
 */
public final class ProgramMemoryView {
  private ProgramMemoryView() {}

  public static MimeBundle render(ProgramMemory m) {
    return MimeBundle.html(html(m)).withText(m.toString());
  }

  static String html(ProgramMemory m) {
    StringBuilder sb = new StringBuilder();
    sb.append("<div style=\"").append(Html.FONT).append("\"><b>Device program memory</b> (").append(m.bits())
        .append("-bit ELF): flash ").append(Html.escape(Html.bytes(m.flash()))).append(", static RAM ")
        .append(Html.escape(Html.bytes(m.staticRam()))).append("</div>");
    sb.append("<table class=\"kiln-table\" style=\"").append(Html.TABLE).append("\"><thead><tr>");
    sb.append("<th style=\"").append(Html.TH).append("\">part</th>");
    sb.append("<th style=\"").append(Html.TH).append(" ").append(Html.NUM).append("\">bytes</th>");
    sb.append("<th style=\"").append(Html.TH).append("\">share</th></tr></thead><tbody>");
    Object[][] rows = {
        {"code: model (operators, kernels)", m.modelCode(), m.flash(), "#2e75b6"},
        {"code: runtime (RPC, executors)", m.runtimeCode(), m.flash(), "#5b9bd5"},
        {"code: C library, start-up", m.otherCode(), m.flash(), "#9dc3e6"},
        {"weights", m.weights(), m.flash(), "#c55a11"},
        {"operator parameters", m.operatorParameters(), m.flash(), "#f4b183"},
        {"metadata, function table", m.metadata(), m.flash(), "#a9d18e"},
        {"other read-only", m.otherReadOnly(), m.flash(), "#bfbfbf"},
        {"initialised data", m.data(), m.flash(), "#7f7f7f"},
        {"bss (zeroed data)", m.bss(), m.staticRam(), "#70ad47"},
        {"  model arena", m.arena(), m.staticRam(), "#548235"},
        {"  runtime state", m.runtimeState(), m.staticRam(), "#a9d18e"},
    };
    for (Object[] r : rows) {
      long v = (Long) r[1];
      long of = (Long) r[2];
      double share = of > 0 ? (double) v / of : 0;
      sb.append("<tr><td style=\"").append(Html.TD).append("\">").append(Html.escape(r[0])).append("</td>");
      sb.append("<td style=\"").append(Html.TD).append(" ").append(Html.NUM).append("\">")
          .append(String.format(Locale.ROOT, "%,d", v)).append("</td>");
      sb.append("<td style=\"").append(Html.TD).append(" min-width: 210px;\"><div class=\"kiln-bar\" style=\"display: inline-block; height: 10px; background: ")
          .append(r[3]).append("; width: ").append(String.format(Locale.ROOT, "%.1f", share * 150)).append("px;\"></div> ")
          .append(String.format(Locale.ROOT, "%.1f%% of %s", share * 100, of == m.flash() ? "flash" : "RAM")).append("</td></tr>");
    }
    sb.append("<tr><td style=\"").append(Html.TD).append("\">stack high-water</td><td style=\"").append(Html.TD).append(" ")
        .append(Html.NUM).append("\">").append(m.stackHighWater().isPresent()
            ? String.format(Locale.ROOT, "%,d", m.stackHighWater().getAsLong()) : "not measured")
        .append("</td><td style=\"").append(Html.TD).append("\">")
        .append(m.stackHighWater().isPresent() ? "measured by the device (painted stack)" : "session.memory() measures it")
        .append("</td></tr>");
    sb.append("</tbody></table>");
    return Html.root("memory", sb.toString());
  }
}
