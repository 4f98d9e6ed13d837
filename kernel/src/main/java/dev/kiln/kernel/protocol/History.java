package dev.kiln.kernel.protocol;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The inputs (and text outputs) of this kernel session's stored cells, for {@code history_request}:
 * tail, range and glob search as IPython answers them. In memory only: a restarted kernel starts
 * empty. The session is always {@link #SESSION}.
 */
public final class History {
  public static final int SESSION = 1;

  public record Entry(int line, String input, String output) {}

  private final List<Entry> entries = new ArrayList<>();

  public synchronized void add(int line, String input, String output) { entries.add(new Entry(line, input, output)); }

  /** The last {@code n} entries (all when {@code n <= 0}). */
  public synchronized List<Entry> tail(int n) {
    int from = n <= 0 ? 0 : Math.max(0, entries.size() - n);
    return List.copyOf(entries.subList(from, entries.size()));
  }

  /**
   * Lines {@code start <= line < stop} of the current session ({@code session} 0, 1 or negative
   * all mean this one; {@code stop <= 0} means to the end).
   */
  public synchronized List<Entry> range(int session, int start, int stop) {
    if (session > SESSION) return List.of();
    List<Entry> out = new ArrayList<>();
    for (Entry e : entries) if (e.line() >= start && (stop <= 0 || e.line() < stop)) out.add(e);
    return out;
  }

  /** Entries whose input matches the glob {@code pattern} ({@code *}, {@code ?}); the last {@code n}. */
  public synchronized List<Entry> search(String pattern, int n, boolean unique) {
    Pattern regex = Pattern.compile(globToRegex(pattern == null || pattern.isEmpty() ? "*" : pattern), Pattern.DOTALL);
    List<Entry> matches = new ArrayList<>();
    Set<String> seen = new LinkedHashSet<>();
    for (int i = entries.size() - 1; i >= 0; i--) {
      Entry e = entries.get(i);
      if (!regex.matcher(e.input()).matches()) continue;
      if (unique && !seen.add(e.input())) continue;
      matches.add(0, e);
      if (n > 0 && matches.size() >= n) break;
    }
    return matches;
  }

  static String globToRegex(String glob) {
    StringBuilder sb = new StringBuilder();
    for (char c : glob.toCharArray()) {
      if (c == '*') sb.append(".*");
      else if (c == '?') sb.append('.');
      else sb.append(Pattern.quote(String.valueOf(c)));
    }
    return sb.toString();
  }
}
