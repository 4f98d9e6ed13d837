package dev.kiln.rpc;

/** TVM RPC packet codes (RPCCode), i32 on the wire. Codes from 9 on are syscalls. */
public final class RpcCode {
  private RpcCode() {}

  public static final int SHUTDOWN = 1;
  public static final int INIT_SERVER = 2;
  public static final int CALL_FUNC = 3;
  public static final int RETURN = 4;
  public static final int EXCEPTION = 5;
  public static final int COPY_FROM_REMOTE = 6;
  public static final int COPY_TO_REMOTE = 7;
  public static final int COPY_ACK = 8;
  public static final int GET_GLOBAL_FUNC = 9;
  public static final int FREE_HANDLE = 10;
  public static final int DEV_SET_DEVICE = 11;
  public static final int DEV_GET_ATTR = 12;
  public static final int DEV_ALLOC_DATA = 13;
  public static final int DEV_FREE_DATA = 14;
  public static final int DEV_STREAM_SYNC = 15;
  public static final int COPY_AMONG_REMOTE = 16;
  public static final int DEV_ALLOC_DATA_WITH_SCOPE = 17;
  public static final int DEV_CREATE_STREAM = 18;
  public static final int DEV_FREE_STREAM = 19;
  public static final int DEV_SET_STREAM = 20;
  public static final int DEV_GET_CURRENT_STREAM = 21;

  /** The code's name for messages ("RETURN", "COPY_ACK", ...), or "unknown". */
  static String name(int code) {
    for (java.lang.reflect.Field f : RpcCode.class.getDeclaredFields()) {
      try {
        if (f.getType() == int.class && java.lang.reflect.Modifier.isStatic(f.getModifiers()) && f.getInt(null) == code) return f.getName();
      } catch (IllegalAccessException e) {
        return "unknown";
      }
    }
    return "unknown";
  }
}
