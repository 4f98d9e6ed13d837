package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.api.KilnException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Papermill's parameters convention for Kiln (Java) notebooks: the code cell tagged
 * {@code parameters} declares the defaults ({@code var model = "../shared/...";},
 * {@code int runs = 10;}); {@link #inject} adds, right after it, a cell tagged
 * {@code injected-parameters} that declares each given value again (JShell replaces a declaration
 * of the same name), so the rest of the notebook runs with the new values. A notebook without a
 * parameters cell gets the injected cell first. A value is written as a Java literal of the
 * parameter's declared type (a {@code String}, or {@code var} with a string default, gets quotes
 * and escapes; numbers and booleans are checked); for other types the value is Java text
 * ({@code -p device='Device.qemu("mps2-an386")'}).
 */
public final class NotebookParameters {
  static final String PARAMETERS = "parameters";
  static final String INJECTED = "injected-parameters";
  private static final Pattern NAME = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*");

  private NotebookParameters() {}

  /** {@code name=value} pairs, in order; a malformed one is an error naming it. */
  public static Map<String, String> parse(List<String> pairs) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String p : pairs) {
      int eq = p.indexOf('=');
      if (eq <= 0 || !NAME.matcher(p.substring(0, eq)).matches()) {
        throw new KilnException("parameter '" + p + "' is not NAME=VALUE with a Java name; e.g. -p runs=20 -p model=../m.tflite");
      }
      out.put(p.substring(0, eq), p.substring(eq + 1));
    }
    return out;
  }

  /** The notebook with the injected cell (an earlier injected cell is replaced); {@code notebook} is not changed. */
  public static ObjectNode inject(ObjectNode notebook, Map<String, String> params) {
    ObjectNode nb = notebook.deepCopy();
    JsonNode cellsNode = nb.path("cells");
    if (!cellsNode.isArray()) throw new KilnException("not a notebook: no \"cells\" list (nbformat 4 is needed)");
    ArrayNode cells = (ArrayNode) cellsNode;
    for (int i = cells.size() - 1; i >= 0; i--) if (tagged(cells.get(i), INJECTED)) cells.remove(i);
    int at = -1;
    for (int i = 0; i < cells.size(); i++) {
      if (tagged(cells.get(i), PARAMETERS)) {
        at = i;
        break;
      }
    }
    String declarations = at >= 0 ? source(cells.get(at)) : "";
    StringBuilder code = new StringBuilder("// Injected parameters (kiln notebook -p)\n");
    for (Map.Entry<String, String> e : params.entrySet()) {
      code.append(declaration(e.getKey(), e.getValue(), declarations)).append('\n');
    }
    ObjectNode cell = JsonNodeFactory.instance.objectNode();
    cell.put("cell_type", "code");
    if (nb.path("nbformat_minor").asInt(0) >= 5 || nb.path("nbformat").asInt(4) > 4) cell.put("id", INJECTED); // ids since nbformat 4.5
    cell.putNull("execution_count");
    ObjectNode metadata = cell.putObject("metadata");
    metadata.putArray("tags").add(INJECTED);
    cell.putArray("outputs");
    ArrayNode lines = cell.putArray("source");
    String text = code.toString().stripTrailing();
    String[] split = text.split("\n", -1);
    for (int i = 0; i < split.length; i++) lines.add(split[i] + (i + 1 < split.length ? "\n" : ""));
    cells.insert(at + 1, cell);
    return nb;
  }

  /** One declaration: {@code String model = "x.tflite";}, {@code int runs = 20;}, {@code var d = Device.host();}. */
  static String declaration(String name, String value, String parametersCell) {
    Matcher m = Pattern.compile("(?m)(?:^|[;{}\\s])((?:final\\s+)?[A-Za-z_$][\\w$.<>,\\[\\] ]*?)\\s+" + Pattern.quote(name) + "\\s*=\\s*([^;\\n]*)")
        .matcher(parametersCell);
    String type = "var";
    String defaultValue = null;
    if (m.find()) {
      type = m.group(1).replaceFirst("^final\\s+", "").strip();
      defaultValue = m.group(2).strip();
    }
    String literal = switch (type) {
      case "String" -> quote(value);
      case "int", "Integer", "short", "byte" -> checked(name, type, value, "-?[0-9]+");
      case "long", "Long" -> checked(name, type, value, "-?[0-9]+[lL]?");
      case "double", "Double", "float", "Float" -> checked(name, type, value, "-?[0-9]*\\.?[0-9]+([eE][-+]?[0-9]+)?[fFdD]?");
      case "boolean", "Boolean" -> checked(name, type, value, "true|false");
      case "var" -> defaultValue == null || defaultValue.startsWith("\"") ? (defaultValue == null && isJavaLiteral(value) ? value : quote(value))
          : value;
      default -> value;
    };
    return type + " " + name + " = " + literal + ";";
  }

  private static boolean isJavaLiteral(String v) {
    return v.matches("-?[0-9]+[lL]?|-?[0-9]*\\.[0-9]+([eE][-+]?[0-9]+)?[fFdD]?|true|false");
  }

  private static String checked(String name, String type, String value, String pattern) {
    if (!value.strip().matches(pattern)) {
      throw new KilnException("parameter " + name + " is declared " + type + " in the parameters cell; '" + value + "' is not one");
    }
    return value.strip();
  }

  /** A Java string literal. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
          else sb.append(c);
        }
      }
    }
    return sb.append('"').toString();
  }

  static boolean tagged(JsonNode cell, String tag) {
    for (JsonNode t : cell.path("metadata").path("tags")) if (t.asText().equals(tag)) return true;
    return false;
  }

  static String source(JsonNode cell) {
    JsonNode s = cell.path("source");
    if (s.isTextual()) return s.asText();
    List<String> parts = new ArrayList<>();
    for (JsonNode line : s) parts.add(line.asText());
    return String.join("", parts);
  }
}
