package dev.kiln.kernel.render;

import dev.kiln.api.Profile;
import dev.kiln.kernel.display.MimeBundle;
import java.util.Locale;

/**
 * A per-operator profile: one row per operator (index, type, the tensor it writes, its function,
 * microseconds and share) with a bar of its share drawn in HTML/CSS, so the chart shows in untrusted
 * notebooks and nbconvert alike, then the total and how much of it the operators account for.
 */
public final class ProfileView {
  private ProfileView() {}

  public static MimeBundle render(Profile p) {
    return MimeBundle.html(html(p)).withText(p.toString());
  }

  static String html(Profile p) {
    boolean instr = p.instructionsPerMicrosecond().isPresent();
    double max = 0;
    for (Profile.Entry e : p.entries()) max = Math.max(max, e.micros());
    StringBuilder sb = new StringBuilder();
    sb.append("<div style=\"").append(Html.FONT).append("\"><b>Per-operator time</b> of ").append(Html.escape(p.model()))
        .append(" (").append(Html.code(p.executor())).append(") on ").append(Html.escape(p.device())).append("</div>");
    sb.append("<table class=\"kiln-table\" style=\"").append(Html.TABLE).append("\"><thead><tr>");
    String[] heads = instr ? new String[] {"op", "type", "writes", "function", "us per run", "instructions", "share", ""}
        : new String[] {"op", "type", "writes", "function", "us per run", "share", ""};
    for (String h : heads) {
      boolean num = h.equals("op") || h.equals("us per run") || h.equals("share") || h.equals("instructions");
      sb.append("<th style=\"").append(Html.TH).append(num ? " " + Html.NUM : "").append("\">").append(Html.escape(h)).append("</th>");
    }
    sb.append("</tr></thead><tbody>");
    for (Profile.Entry e : p.entries()) {
      sb.append("<tr>");
      cell(sb, Integer.toString(e.index()), true);
      cell(sb, e.type(), false);
      sb.append("<td style=\"").append(Html.TD).append("\">").append(Html.code(e.name())).append("</td>");
      cell(sb, e.function(), false);
      cell(sb, String.format(Locale.ROOT, "%.2f", e.micros()), true);
      if (instr) cell(sb, String.format(Locale.ROOT, "%,d", e.instructions().orElse(0)), true);
      cell(sb, String.format(Locale.ROOT, "%.1f%%", e.share() * 100), true);
      double width = max > 0 ? e.micros() / max * 160 : 0;
      sb.append("<td style=\"").append(Html.TD).append(" min-width: 170px;\"><div class=\"kiln-bar\" title=\"")
          .append(Html.escape(e.type() + " " + String.format(Locale.ROOT, "%.2f us", e.micros())))
          .append("\" style=\"height: 10px; background: #2e75b6; width: ")
          .append(String.format(Locale.ROOT, "%.1f", width)).append("px;\"></div></td>");
      sb.append("</tr>");
    }
    sb.append("</tbody></table>");
    sb.append("<div style=\"").append(Html.FONT).append(" ").append(Html.MUTED).append("\">")
        .append(Html.escape(String.format(Locale.ROOT,
            "operators %.2f us of %.2f us per run (%.1f%%; the rest is the executor's own work); %d round%s of at least %d run%s, timed by the device",
            p.operatorMicros(), p.totalMicros(), p.totalMicros() > 0 ? p.operatorMicros() / p.totalMicros() * 100 : 0, p.rounds(),
            p.rounds() == 1 ? "" : "s", p.number(), p.number() == 1 ? "" : "s")))
        .append("</div>");
    return Html.root("profile", sb.toString());
  }

  private static void cell(StringBuilder sb, String text, boolean numeric) {
    sb.append("<td style=\"").append(Html.TD).append(numeric ? " " + Html.NUM : "").append("\">").append(Html.escape(text)).append("</td>");
  }
}
