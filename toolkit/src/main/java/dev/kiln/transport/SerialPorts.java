package dev.kiln.transport;

import com.fazecast.jSerialComm.SerialPort;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The machine's serial ports through jSerialComm (which lists physical and USB ports, never pseudo-terminals). */
public final class SerialPorts {
  /** One port: its system path, jSerialComm's descriptive name, and the driver's or USB device's description. */
  public record Port(String path, String name, String description) {}

  private SerialPorts() {}

  public static List<Port> list() {
    List<Port> out = new ArrayList<>();
    for (SerialPort p : SerialPort.getCommPorts()) {
      String description = p.getPortDescription();
      out.add(new Port(p.getSystemPortPath(), p.getDescriptivePortName(),
          description == null || description.isBlank() ? p.getDescriptivePortName() : description));
    }
    out.sort(Comparator.comparing(Port::path));
    return List.copyOf(out);
  }
}
