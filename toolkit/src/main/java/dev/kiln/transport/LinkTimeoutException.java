package dev.kiln.transport;

import java.time.Duration;

/** Nothing arrived in time. The message names the operation and the wait; the link is closed. */
public class LinkTimeoutException extends LinkException {
  private final Duration waited;

  public LinkTimeoutException(String message, Duration waited) {
    super(message);
    this.waited = waited;
  }

  public LinkTimeoutException(String message, Duration waited, Throwable cause) {
    super(message, cause);
    this.waited = waited;
  }

  /** How long was waited before giving up. */
  public Duration waited() { return waited; }
}
