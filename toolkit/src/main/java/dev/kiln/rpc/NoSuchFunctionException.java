package dev.kiln.rpc;

import java.util.List;

/** A function name the device does not have; the message lists the names it has (when it can tell). */
public class NoSuchFunctionException extends IllegalArgumentException {
  private final String name;
  private final List<String> available;

  public NoSuchFunctionException(String name, String where, List<String> available, boolean listed) {
    super("no function '" + name + "' " + where + "; "
        + (listed ? (available.isEmpty() ? "it has none" : "it has: " + String.join(", ", available))
            : "the device cannot list its functions (kiln.rpc.ListFunctions is missing: a microTVM device?)"));
    this.name = name;
    this.available = List.copyOf(available);
  }

  public String name() { return name; }

  public List<String> available() { return available; }
}
