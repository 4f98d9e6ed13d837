package dev.kiln.cli;

import dev.kiln.api.Device;
import dev.kiln.api.SerialPortInfo;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "ports", mixinStandardHelpOptions = true,
    description = {"Lists the serial ports of this machine (jSerialComm), one per line: the path for --device serial:PATH",
        "and the port's description. Pseudo-terminals are never listed; boards behind a network are reached with",
        "--device serial:rfc2217://HOST:PORT or serial:tcp://HOST:PORT."})
final class PortsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override public Integer call() {
    List<SerialPortInfo> ports = Device.ports();
    var out = spec.commandLine().getOut();
    if (ports.isEmpty()) {
      out.println("no serial ports found (plug a board in; pseudo-terminals are not listed, open them by path)");
      return 0;
    }
    int w = 0;
    for (SerialPortInfo p : ports) w = Math.max(w, p.path().length());
    for (SerialPortInfo p : ports) {
      String extra = p.name().equals(p.description()) ? "" : " (" + p.name() + ")";
      out.printf("%-" + w + "s  %s%s%n", p.path(), p.description(), extra);
    }
    return 0;
  }
}
