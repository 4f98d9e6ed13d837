package dev.kiln.api;

import dev.kiln.transport.SerialPorts;
import java.util.ArrayList;
import java.util.List;

/**
 * A serial port of this machine as jSerialComm lists it: the path to give {@link Device#serial}, its
 * name and the description the driver or USB device reports (a board's product name).
 */
public record SerialPortInfo(String path, String name, String description) {
  /** Every port jSerialComm finds, by path; empty when there are none. */
  public static List<SerialPortInfo> list() {
    List<SerialPortInfo> out = new ArrayList<>();
    for (SerialPorts.Port p : SerialPorts.list()) out.add(new SerialPortInfo(p.path(), p.name(), p.description()));
    return List.copyOf(out);
  }

  @Override public String toString() { return path + "  " + description + (name.equals(description) ? "" : " (" + name + ")"); }
}
