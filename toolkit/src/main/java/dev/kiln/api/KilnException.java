package dev.kiln.api;

/**
 * A problem the user must act on (a bad model file, an unsupported op, a wrong option): the
 * message says what is wrong and what to do. Stack traces are for Kiln's own bugs, not these.
 */
public class KilnException extends RuntimeException {
  public KilnException(String message) { super(message); }

  public KilnException(String message, Throwable cause) { super(message, cause); }
}
