package dev.kiln.rpc;

import java.util.List;

/**
 * The device answered, with an error (a kException): the link is fine and the session goes on.
 * Carries the device's message verbatim (microTVM devices often send an empty one) and the device
 * log lines that arrived during the call.
 */
public class RemoteException extends RuntimeException {
  private final String call;
  private final String deviceMessage;
  private final List<String> logs;

  public RemoteException(String call, String deviceMessage, List<String> logs) {
    super(call + " failed on the device: "
        + (deviceMessage.isEmpty() ? "(the device gave no message)" : deviceMessage)
        + (logs.isEmpty() ? "" : "\ndevice log:\n  " + String.join("\n  ", logs)));
    this.call = call;
    this.deviceMessage = deviceMessage;
    this.logs = List.copyOf(logs);
  }

  /** The request, e.g. {@code CallFunc(kiln_fail)}. */
  public String call() { return call; }

  /** The device's own text, possibly empty. */
  public String deviceMessage() { return deviceMessage; }

  /** Device log lines received while the call ran. */
  public List<String> logs() { return logs; }
}
