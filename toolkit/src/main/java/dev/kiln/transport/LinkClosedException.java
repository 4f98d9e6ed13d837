package dev.kiln.transport;

/**
 * The link ended: the device program exited, the socket or port closed. The message says why as far
 * as the transport knows (exit status and the last lines the program printed on stderr).
 */
public class LinkClosedException extends LinkException {
  public LinkClosedException(String message) { super(message); }

  public LinkClosedException(String message, Throwable cause) { super(message, cause); }
}
