package dev.kiln.kernel.display;

import java.util.UUID;

/**
 * Showing values from inside a cell, before it ends, and changing them later in place (progress
 * of a long job, a live chart). Statically imported in every kernel session:
 *
 * <pre>{@code
 * String id = display("compiling...");
 * ...
 * updateDisplay(id, build);        // replaces the earlier output, wherever it is in the notebook
 * }</pre>
 *
 * Outside a kernel the text/plain form is printed to {@code System.out}.
 */
public final class Display {
  /** Where displays go; the kernel installs one that publishes on the IOPub channel. */
  public interface Sink {
    void display(MimeBundle bundle, String displayId);

    void update(MimeBundle bundle, String displayId);

    void clearOutput(boolean wait);
  }

  private static volatile Sink sink;

  private Display() {}

  /** For the kernel: where {@link #display} publishes. */
  public static void install(Sink newSink) { sink = newSink; }

  /** True inside a kernel, where {@link #display} publishes an output of its own (elsewhere it prints text). */
  public static boolean isLive() { return sink != null; }

  /** Shows {@code value} (through its renderer) now; returns the id {@link #updateDisplay} takes. */
  public static String display(Object value) {
    String id = UUID.randomUUID().toString();
    MimeBundle bundle = Renderers.render(value);
    Sink s = sink;
    if (s == null) System.out.println(bundle.data().get(MimeBundle.TEXT_PLAIN));
    else s.display(bundle, id);
    return id;
  }

  /** Replaces what {@link #display} showed under {@code displayId}. */
  public static void updateDisplay(String displayId, Object value) {
    if (displayId == null) throw new NullPointerException("displayId == null");
    MimeBundle bundle = Renderers.render(value);
    Sink s = sink;
    if (s == null) System.out.println(bundle.data().get(MimeBundle.TEXT_PLAIN));
    else s.update(bundle, displayId);
  }

  /** Clears the cell's output; with {@code wait}, only when the next output arrives (no flicker). */
  public static void clearOutput(boolean wait) {
    Sink s = sink;
    if (s != null) s.clearOutput(wait);
  }
}
