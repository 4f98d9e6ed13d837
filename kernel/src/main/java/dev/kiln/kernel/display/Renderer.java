package dev.kiln.kernel.display;

/**
 * Shows values of one type in a notebook. Register with {@link Renderers#register}; return any
 * MIME types (HTML, SVG, PNG, markdown...). {@code text/plain} is added from {@code toString()}
 * when the bundle has none, so a renderer may return only its rich form.
 */
@FunctionalInterface
public interface Renderer<T> {
  MimeBundle render(T value) throws Exception;
}
