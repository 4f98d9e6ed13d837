package dev.kiln.rpc;

/** An opaque device handle (kTVMOpaqueHandle): a pointer or id the host only passes back. */
public record RemoteHandle(long value) {
  @Override public String toString() { return "RemoteHandle(0x" + Long.toHexString(value) + ")"; }
}
