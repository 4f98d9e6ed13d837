package dev.kiln.kernel.display;

import java.lang.reflect.Array;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Renderers keyed by class. A value is shown by the renderer of its own class, else of the
 * nearest superclass, else of its interfaces (breadth first, in declaration order), else as
 * {@code text/plain} from {@code toString()} (arrays as {@code Arrays.deepToString}). A renderer
 * that throws is skipped for that value, with a line on stderr saying so.
 */
public final class RendererRegistry {
  private final Map<Class<?>, Renderer<?>> renderers = new ConcurrentHashMap<>();

  /** Registers (or replaces) the renderer for {@code type} and its subtypes. */
  public <T> RendererRegistry register(Class<T> type, Renderer<? super T> renderer) {
    if (type == null) throw new NullPointerException("type == null");
    if (renderer == null) throw new NullPointerException("renderer == null for " + type.getName());
    renderers.put(type, renderer);
    return this;
  }

  public RendererRegistry unregister(Class<?> type) {
    renderers.remove(type);
    return this;
  }

  public boolean hasRendererFor(Class<?> type) { return find(type) != null; }

  /** The bundle for {@code value}: its renderer's, with text/plain filled in; never null. */
  public MimeBundle render(Object value) {
    if (value instanceof MimeBundle b) return b.withTextIfMissing(b.toString());
    if (value == null) return MimeBundle.text("null");
    Renderer<?> renderer = find(value.getClass());
    if (renderer != null) {
      try {
        @SuppressWarnings("unchecked")
        MimeBundle bundle = ((Renderer<Object>) renderer).render(value);
        if (bundle != null) return bundle.withTextIfMissing(plainText(value));
      } catch (Exception | LinkageError e) {
        System.err.println("renderer for " + value.getClass().getName() + " failed (" + e + "); showing toString()");
      }
    }
    return MimeBundle.text(plainText(value));
  }

  private Renderer<?> find(Class<?> type) {
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      Renderer<?> r = renderers.get(c);
      if (r != null) return r;
    }
    Deque<Class<?>> queue = new ArrayDeque<>();
    Set<Class<?>> seen = new HashSet<>();
    for (Class<?> c = type; c != null; c = c.getSuperclass()) queue.addAll(Arrays.asList(c.getInterfaces()));
    while (!queue.isEmpty()) {
      Class<?> i = queue.removeFirst();
      if (!seen.add(i)) continue;
      Renderer<?> r = renderers.get(i);
      if (r != null) return r;
      queue.addAll(Arrays.asList(i.getInterfaces()));
    }
    return null;
  }

  static String plainText(Object value) {
    if (value == null) return "null";
    if (value.getClass().isArray()) {
      if (value instanceof Object[] objects) return Arrays.deepToString(objects);
      int n = Array.getLength(value);
      StringBuilder sb = new StringBuilder("[");
      for (int i = 0; i < n; i++) sb.append(i == 0 ? "" : ", ").append(Array.get(value, i));
      return sb.append(']').toString();
    }
    try {
      return String.valueOf(value);
    } catch (RuntimeException e) {
      return value.getClass().getName() + " (toString() failed: " + e + ")";
    }
  }
}
