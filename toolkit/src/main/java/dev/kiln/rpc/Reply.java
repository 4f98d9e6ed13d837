package dev.kiln.rpc;

import dev.kiln.transport.LinkCorruptedException;
import java.util.List;

/** A decoded device reply: kReturn values, a kException message, or kCopyAck bytes. */
record Reply(int code, List<Value> values, String exceptionMessage, byte[] copyData) {
  static Reply parse(String call, byte[] rpc) throws LinkCorruptedException {
    PacketReader r = new PacketReader(rpc, 0, rpc.length);
    long len = r.u64();
    if (len != rpc.length - 8) {
      throw new LinkCorruptedException(call + ": reply declares " + len + " bytes but its message carries "
          + (rpc.length - 8));
    }
    int code = r.i32();
    try {
      switch (code) {
        case RpcCode.RETURN -> {
          return new Reply(code, r.args(), null, null);
        }
        case RpcCode.EXCEPTION -> {
          List<Value> v = r.args();
          String msg = !v.isEmpty() && v.get(0).value() instanceof String s ? s : String.valueOf(v);
          return new Reply(code, List.of(), msg, null);
        }
        case RpcCode.COPY_ACK -> {
          return new Reply(code, List.of(), null, r.bytes(r.remaining()));
        }
        default -> throw new LinkCorruptedException(call + ": reply has RPC code " + code
            + "; expected 4 (kReturn), 5 (kException) or 8 (kCopyAck)");
      }
    } catch (LinkCorruptedException e) {
      if (e.getMessage().startsWith(call)) throw e;
      throw new LinkCorruptedException(call + ": " + e.getMessage(), e);
    }
  }
}
