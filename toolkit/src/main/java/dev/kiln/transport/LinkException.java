package dev.kiln.transport;

import java.io.IOException;

/**
 * The link to the device failed: it closed, timed out or carried garbage. The device may or may not
 * have acted on the last request. A session that saw one is finished; open a new one.
 */
public class LinkException extends IOException {
  public LinkException(String message) { super(message); }

  public LinkException(String message, Throwable cause) { super(message, cause); }
}
