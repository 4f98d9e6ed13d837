package dev.kiln.transport;

/**
 * Bytes arrived but did not make sense: bad CRC, broken escapes, a frame the device reported
 * dropping, or a reply that does not fit the request. The message quotes what was seen.
 */
public class LinkCorruptedException extends LinkException {
  public LinkCorruptedException(String message) { super(message); }

  public LinkCorruptedException(String message, Throwable cause) { super(message, cause); }
}
