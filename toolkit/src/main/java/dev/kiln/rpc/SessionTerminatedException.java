package dev.kiln.rpc;

import dev.kiln.transport.LinkClosedException;

/** The device sent TerminateSession while the session was up: it rebooted or started over. */
public class SessionTerminatedException extends LinkClosedException {
  public SessionTerminatedException(String message) { super(message); }
}
