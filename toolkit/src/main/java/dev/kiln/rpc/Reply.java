package dev.kiln.rpc;

import dev.kiln.transport.LinkCorruptedException;
import java.util.Arrays;
import java.util.List;

/**
 * A decoded device reply: kReturn values, a kException message, or kCopyAck bytes. The copy bytes
 * stay where the session received them ({@code buffer[copyOffset, +copyLength)}, valid until the
 * session receives again), so a chunked copy moves them once, straight into its destination.
 */
record Reply(int code, List<Value> values, String exceptionMessage, byte[] buffer, int copyOffset, int copyLength) {
  static Reply parse(String call, byte[] rpc) throws LinkCorruptedException { return parse(call, rpc, 0, rpc.length); }

  static Reply parse(String call, byte[] buf, int off, int len) throws LinkCorruptedException {
    PacketReader r = new PacketReader(buf, off, len);
    long declared = r.u64();
    if (declared != len - 8) {
      throw new LinkCorruptedException(call + ": reply declares " + declared + " bytes but its message carries "
          + (len - 8));
    }
    int code = r.i32();
    try {
      switch (code) {
        case RpcCode.RETURN -> {
          return new Reply(code, r.args(), null, null, 0, 0);
        }
        case RpcCode.EXCEPTION -> {
          List<Value> v = r.args();
          String msg = !v.isEmpty() && v.get(0).value() instanceof String s ? s : String.valueOf(v);
          return new Reply(code, List.of(), msg, null, 0, 0);
        }
        case RpcCode.COPY_ACK -> {
          return new Reply(code, List.of(), null, buf, r.position(), r.remaining());
        }
        default -> throw new LinkCorruptedException(call + ": reply has RPC code " + code
            + "; expected 4 (kReturn), 5 (kException) or 8 (kCopyAck)");
      }
    } catch (LinkCorruptedException e) {
      if (e.getMessage().startsWith(call)) throw e;
      throw new LinkCorruptedException(call + ": " + e.getMessage(), e);
    }
  }

  /** The kCopyAck bytes, copied out. */
  byte[] copyData() { return buffer == null ? null : Arrays.copyOfRange(buffer, copyOffset, copyOffset + copyLength); }
}
