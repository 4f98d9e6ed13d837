package dev.kiln.kernel.render;

import dev.kiln.api.DeviceSession;
import dev.kiln.kernel.display.MimeBundle;
import java.util.List;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/** A device session: what runs where (model, executor, device, transport), its state and why it failed. */
public final class SessionView {
  private SessionView() {}

  public static MimeBundle render(DeviceSession s) {
    String state = s.state().name().toLowerCase(java.util.Locale.ROOT);
    String color = switch (s.state()) {
      case OPEN -> "#2e7d32";
      case CLOSED -> "#757575";
      case FAILED -> "#c62828";
    };
    StringBuilder sb = new StringBuilder();
    sb.append("<div style=\"").append(Html.FONT).append("\"><b>Device session</b> ").append(Html.badge(state, color)).append("</div>");
    sb.append(Html.table(table(s)));
    dev.kiln.project.ProgramMemory memory = memory(s);
    if (memory != null) sb.append(Html.details("device program memory: " + memory.summary(), ProgramMemoryView.html(memory)));
    List<String> logs = s.deviceLogs();
    if (!logs.isEmpty()) sb.append(Html.details("device log (" + logs.size() + " lines)", Html.pre(String.join("\n", logs))));
    return MimeBundle.html(Html.root("session", sb.toString())).withText(s.toString()
        + (s.failure() != null ? "\nfailure: " + s.failure() : ""));
  }

  /** Model, executor, device, transport, state, device pid, failure. */
  public static Table table(DeviceSession s) {
    StringColumn key = StringColumn.create("session");
    StringColumn value = StringColumn.create("value");
    add(key, value, "model", s.build().model().name());
    add(key, value, "executor", s.build().executor().toString());
    add(key, value, "device", s.device().toString());
    add(key, value, "transport", s.transport());
    add(key, value, "state", s.state().name().toLowerCase(java.util.Locale.ROOT));
    s.devicePid().ifPresent(pid -> add(key, value, "device pid", Long.toString(pid)));
    add(key, value, "call timeout", s.device().timeout().toMillis() + " ms");
    if (s.failure() != null) add(key, value, "failure", s.failure());
    return Table.create("", key, value);
  }

  /**
   * Flash and RAM of the program a session runs, host or emulated board (from its ELF: no device
   * call, so the stack high-water is left to {@code session.memory()}); null for a board flashed
   * outside Kiln, whose ELF Kiln does not have.
   */
  static dev.kiln.project.ProgramMemory memory(DeviceSession s) {
    try {
      return s.programMemory().orElse(null);
    } catch (RuntimeException e) {
      return null; // a display never fails over an optional part
    }
  }

  private static void add(StringColumn key, StringColumn value, String k, String v) {
    key.append(k);
    value.append(v == null ? "" : v);
  }
}
