package dev.kiln.kernel.display;

import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a notebook shows for one value: the same content in one or more MIME types (the frontend
 * picks the richest it can show) with optional per-type metadata. Immutable; each {@code with...}
 * returns a changed copy.
 *
 * <pre>{@code
 * MimeBundle.html("<b>3</b> inputs").withText("3 inputs")
 * MimeBundle.svg(svgText).withMetadata("image/svg+xml", Map.of("isolated", true))
 * }</pre>
 *
 * A bundle without {@code text/plain} gets the value's {@code toString()} when the kernel shows it.
 */
public final class MimeBundle {
  public static final String TEXT_PLAIN = "text/plain";
  public static final String TEXT_HTML = "text/html";
  public static final String TEXT_MARKDOWN = "text/markdown";
  public static final String IMAGE_SVG = "image/svg+xml";
  public static final String IMAGE_PNG = "image/png";
  public static final String APPLICATION_JSON = "application/json";

  private final Map<String, Object> data;
  private final Map<String, Object> metadata;

  private MimeBundle(Map<String, Object> data, Map<String, Object> metadata) {
    this.data = Collections.unmodifiableMap(data);
    this.metadata = Collections.unmodifiableMap(metadata);
  }

  public static MimeBundle empty() { return new MimeBundle(new LinkedHashMap<>(), new LinkedHashMap<>()); }

  /** One representation: {@code data} is a String for text types, a JSON-able Map/List for JSON types. */
  public static MimeBundle of(String mimeType, Object data) { return empty().with(mimeType, data); }

  public static MimeBundle text(String text) { return of(TEXT_PLAIN, text); }

  public static MimeBundle html(String html) { return of(TEXT_HTML, html); }

  public static MimeBundle svg(String svg) { return of(IMAGE_SVG, svg); }

  public static MimeBundle markdown(String markdown) { return of(TEXT_MARKDOWN, markdown); }

  /** A PNG from its bytes (sent base64, as Jupyter wants). */
  public static MimeBundle png(byte[] png) { return of(IMAGE_PNG, Base64.getEncoder().encodeToString(png)); }

  public MimeBundle with(String mimeType, Object value) {
    if (mimeType == null || mimeType.indexOf('/') <= 0) throw new IllegalArgumentException("not a MIME type: " + mimeType);
    if (value == null) throw new NullPointerException("value == null for " + mimeType);
    Map<String, Object> d = new LinkedHashMap<>(data);
    d.put(mimeType, value);
    return new MimeBundle(d, new LinkedHashMap<>(metadata));
  }

  public MimeBundle withText(String text) { return with(TEXT_PLAIN, text); }

  public MimeBundle withHtml(String html) { return with(TEXT_HTML, html); }

  public MimeBundle withSvg(String svg) { return with(IMAGE_SVG, svg); }

  public MimeBundle withMarkdown(String markdown) { return with(TEXT_MARKDOWN, markdown); }

  public MimeBundle withPng(byte[] png) { return with(IMAGE_PNG, Base64.getEncoder().encodeToString(png)); }

  /** Metadata for one MIME type, e.g. {@code ("image/png", Map.of("width", 320))}. */
  public MimeBundle withMetadata(String mimeType, Object value) {
    Map<String, Object> m = new LinkedHashMap<>(metadata);
    m.put(mimeType, value);
    return new MimeBundle(new LinkedHashMap<>(data), m);
  }

  public Map<String, Object> data() { return data; }

  public Map<String, Object> metadata() { return metadata; }

  public boolean has(String mimeType) { return data.containsKey(mimeType); }

  /** Adds {@code text/plain} from {@code fallback} when missing. */
  MimeBundle withTextIfMissing(String fallback) { return has(TEXT_PLAIN) ? this : withText(fallback); }

  @Override public String toString() {
    Object text = data.get(TEXT_PLAIN);
    return "MimeBundle" + data.keySet() + (text != null ? " " + text : "");
  }
}
