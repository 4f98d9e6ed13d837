package dev.kiln.rpc;

/** A DLPack DLDevice: device type (1 = CPU, the only one a micro device serves) and id. */
public record Device(int type, int id) {
  public static final Device CPU = new Device(1, 0);

  @Override public String toString() { return "Device{" + type + ", " + id + "}"; }
}
