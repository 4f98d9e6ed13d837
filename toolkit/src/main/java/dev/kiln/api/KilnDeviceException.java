package dev.kiln.api;

/** A device call that failed: the device refused it (its message is quoted) or the link broke (with why). */
public class KilnDeviceException extends KilnException {
  public KilnDeviceException(String message, Throwable cause) { super(message, cause); }

  public KilnDeviceException(String message) { super(message); }
}
