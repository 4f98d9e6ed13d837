package dev.kiln.kernel.render;

import dev.kiln.api.KilnDeviceException;
import dev.kiln.api.KilnException;
import dev.kiln.kernel.display.MimeBundle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Kiln error as a notebook should show it: what went wrong, the valid choices the message lists,
 * and the fix, set apart; never a stack trace (a {@link KilnException} is the user's to act on, not
 * a bug). The toolkit words its messages as "problem; fix" with choices on indented lines; this
 * view only lays them out, it adds a fix only where the message has none and the kind of error
 * makes it certain (a failed device session, a missing file).
 */
public final class ErrorView {
  /** Where a fix starts in a toolkit message: a clause opening with one of these words. */
  private static final Pattern FIX = Pattern.compile("(?:^|(?<=[.;:,(]\\s)|(?<=\\.\\s{2}))"
      + "((?i:open a new one|open a new session|call |quantize it|dequantize it|build with|convert |use |save with|give |"
      + "set the inputs|install |run |check |tensor\\.reshape|reshape ))");

  private ErrorView() {}

  /** The parts of a message: what went wrong, listed choices, the fix (null if none). */
  public record Parts(String problem, List<String> choices, List<String> more, String fix) {}

  public static MimeBundle render(KilnException e) {
    Parts p = parts(e);
    StringBuilder sb = new StringBuilder();
    // translucent red over the theme's background, the theme's text colour: legible in light and dark themes
    sb.append("<div style=\"border-left: 4px solid #c62828; background: rgba(198, 40, 40, 0.1); padding: 6px 10px; ").append(Html.FONT)
        .append("\">");
    // the title in the theme's text colour: the red border and tint mark the error, and no red
    // reads at 4.5:1 on both a light and a dark background
    sb.append("<div><b>").append(Html.escape(e.getClass().getSimpleName())).append("</b>: ")
        .append(Html.escape(p.problem())).append("</div>");
    for (String line : p.more()) sb.append("<div>").append(Html.escape(line)).append("</div>");
    if (!p.choices().isEmpty()) {
      sb.append("<div style=\"margin-top: 4px;\">Valid choices:</div><ul style=\"margin: 2px 0; ").append(Html.MONO)
          .append(" font-size: 12px;\">");
      for (String c : p.choices()) sb.append("<li>").append(Html.escape(c)).append("</li>");
      sb.append("</ul>");
    }
    if (p.fix() != null) {
      sb.append("<div style=\"margin-top: 4px;\"><b>Fix:</b> ").append(Html.escape(p.fix())).append("</div>");
    }
    Throwable cause = e.getCause();
    if (cause != null && cause.getMessage() != null && !e.getMessage().contains(cause.getMessage())) {
      sb.append("<div style=\"").append(Html.MUTED).append(" font-size: 12px; margin-top: 4px;\">cause: ")
          .append(Html.escape(cause.getClass().getSimpleName() + ": " + cause.getMessage())).append("</div>");
    }
    sb.append("</div>");
    return MimeBundle.html(Html.root("error", sb.toString())).withText(text(e, p));
  }

  static String text(KilnException e, Parts p) {
    StringBuilder sb = new StringBuilder(e.getClass().getSimpleName()).append(": ").append(p.problem());
    for (String line : p.more()) sb.append('\n').append(line);
    for (String c : p.choices()) sb.append("\n  ").append(c);
    if (p.fix() != null) sb.append("\nFix: ").append(p.fix());
    return sb.toString();
  }

  public static Parts parts(KilnException e) {
    String message = e.getMessage() == null ? "" : e.getMessage();
    String[] lines = message.split("\n");
    String problem = lines[0];
    String fix = null;
    Matcher m = FIX.matcher(problem);
    while (m.find()) {
      if (m.start(1) == 0) continue; // the whole line is the problem, worded as advice
      fix = capitalize(problem.substring(m.start(1)).strip());
      problem = problem.substring(0, m.start(1)).replaceAll("[\\s;:,(]+$", "");
      break;
    }
    List<String> choices = new ArrayList<>();
    List<String> more = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      String line = lines[i];
      if (line.isBlank()) continue;
      if (Character.isWhitespace(line.charAt(0))) {
        choices.add(line.strip());
        continue;
      }
      Matcher lm = FIX.matcher(line);
      if (fix == null && lm.find()) {
        String before = line.substring(0, lm.start(1)).replaceAll("[\\s;:,(]+$", "");
        if (!before.isBlank()) more.add(before);
        fix = capitalize(line.substring(lm.start(1)).strip());
      } else {
        more.add(line);
      }
    }
    if (fix == null) fix = defaultFix(e, message, !choices.isEmpty());
    return new Parts(problem, choices, more, fix);
  }

  private static String defaultFix(KilnException e, String message, boolean listsChoices) {
    if (e instanceof KilnDeviceException) return "Open a new session with build.flash(device); the host is fine.";
    if (listsChoices) return "Use one of the valid choices: either name works, or the index.";
    if (message.contains("no such file")) {
      return "Check the path: relative paths start at the kernel's working folder, " + Path.of("").toAbsolutePath() + ".";
    }
    return null;
  }

  private static String capitalize(String s) {
    return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1);
  }
}
