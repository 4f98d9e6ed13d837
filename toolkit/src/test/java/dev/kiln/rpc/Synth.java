package dev.kiln.rpc;

import java.util.HexFormat;
import java.util.List;

/** Frames for exchanges the recordings do not contain, built with the (vector-tested) codec. */
final class Synth {
  private Synth() {}

  static String frame(int sid, byte[] rpc) {
    byte[] payload = new byte[3 + rpc.length];
    payload[0] = (byte) sid;
    payload[1] = (byte) (sid >>> 8);
    payload[2] = 0x10;
    System.arraycopy(rpc, 0, payload, 3, rpc.length);
    return HexFormat.ofDelimiter(" ").formatHex(Framer.encode(payload, 0, payload.length, false));
  }

  static String getGlobal(String name) {
    return frame(0x2342, new PacketWriter(64).i32(RpcCode.GET_GLOBAL_FUNC).args(List.of(Value.ofStr(name))).finish());
  }

  static String returnHandle(long handle) {
    return frame(0x2342, new PacketWriter(32).i32(RpcCode.RETURN).args(List.of(Value.ofHandle(handle))).finish());
  }
}
