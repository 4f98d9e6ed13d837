package dev.kiln.rpc;

import dev.kiln.transport.LinkClosedException;

/**
 * The device stopped itself (kiln_abort): it sent its reason as a log line, then ended the link.
 * The message quotes the reason and, when known, how the link ended (exit status, stderr).
 */
public class DeviceAbortedException extends LinkClosedException {
  private final int code;
  private final String reason;

  public DeviceAbortedException(String call, int code, String reason, String howItEnded, Throwable cause) {
    super(call + ": the device aborted: " + reason + String.format(" (code 0x%04x)", code)
        + (howItEnded == null ? "" : "; " + howItEnded), cause);
    this.code = code;
    this.reason = reason;
  }

  /** The abort code (KILN_ERR_*, microTVM's category << 8 | code scheme). */
  public int code() { return code; }

  /** The device's reason, verbatim. */
  public String reason() { return reason; }
}
