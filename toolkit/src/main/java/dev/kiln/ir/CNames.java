package dev.kiln.ir;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Derives C identifiers from model names, deterministically and uniquely. A name that is already a
 * legal identifier keeps it; others replace each unsafe character by {@code _} (so
 * {@code predict_images:0} becomes {@code predict_images_0}, as microTVM spells it) and, on a
 * collision, take the first free {@code _1}, {@code _2}... suffix. Both spellings stay resolvable
 * through {@link Graph#find}.
 */
public final class CNames {
  private static final Set<String> RESERVED = Set.of(
      "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
      "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
      "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
      "volatile", "while", "_Bool", "_Complex", "_Imaginary", "main", "NULL");

  private CNames() {}

  /** The plain sanitized form: unsafe characters become {@code _}; a leading digit gets a {@code _} prefix. */
  public static String sanitize(String name) {
    StringBuilder sb = new StringBuilder(name.length() + 1);
    name.codePoints().forEach(c -> sb.append(c < 128 && (Character.isLetterOrDigit(c) || c == '_') ? (char) c : '_'));
    if (sb.length() == 0 || Character.isDigit(sb.charAt(0))) sb.insert(0, '_');
    String s = sb.toString();
    return RESERVED.contains(s) ? s + "_" : s;
  }

  /** True if {@code s} is made of letters, digits and {@code _} and does not start with a digit (keywords allowed: it is a prefix or suffix). */
  public static boolean isIdentifierPart(String s) {
    return s.matches("[A-Za-z_][A-Za-z0-9_]*");
  }

  /** True if {@code name} can be used unchanged as a C identifier. */
  public static boolean isLegal(String name) {
    return !name.isEmpty() && sanitize(name).equals(name);
  }

  /**
   * Allocates unique C names for {@code names} (in priority order: earlier entries win a contested
   * spelling). Returns the C names in the same order.
   */
  public static List<String> allocate(List<String> names) {
    Map<Integer, String> result = new LinkedHashMap<>();
    Set<String> taken = new HashSet<>();
    // Pass 1: names that are already legal keep their spelling.
    for (int i = 0; i < names.size(); i++) {
      String n = names.get(i);
      if (isLegal(n) && taken.add(n)) result.put(i, n);
    }
    // Pass 2: the rest are sanitized, with a numeric suffix on collision.
    for (int i = 0; i < names.size(); i++) {
      if (result.containsKey(i)) continue;
      String base = sanitize(names.get(i));
      String candidate = base;
      for (int k = 1; !taken.add(candidate); k++) candidate = base + "_" + k;
      result.put(i, candidate);
    }
    List<String> out = new ArrayList<>(names.size());
    for (int i = 0; i < names.size(); i++) out.add(result.get(i));
    return out;
  }
}
