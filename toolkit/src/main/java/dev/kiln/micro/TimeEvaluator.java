package dev.kiln.micro;

import dev.kiln.rpc.RemoteFunction;
import dev.kiln.rpc.RemoteModule;
import dev.kiln.rpc.RpcClient;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Times a function on the device with {@code runtime.RPCTimeEvaluator} (all 12 arguments, as a
 * v0.18 device requires): one warm-up call, then {@code repeat} rounds of {@code number} calls
 * timed by the device's own clock. Immutable; each setter returns a copy.
 */
public final class TimeEvaluator {
  private final RpcClient rpc;
  private final RemoteModule module;
  private final String function;
  private final int number;
  private final int repeat;
  private final int minRepeatMillis;

  TimeEvaluator(RpcClient rpc, RemoteModule module, String function) {
    this(rpc, module, function, 10, 3, 0);
  }

  private TimeEvaluator(RpcClient rpc, RemoteModule module, String function, int number, int repeat, int minRepeatMillis) {
    if (number < 1) throw new IllegalArgumentException("number < 1: " + number);
    if (repeat < 1) throw new IllegalArgumentException("repeat < 1: " + repeat);
    if (minRepeatMillis < 0) throw new IllegalArgumentException("minRepeatMillis < 0: " + minRepeatMillis);
    this.rpc = rpc;
    this.module = module;
    this.function = function;
    this.number = number;
    this.repeat = repeat;
    this.minRepeatMillis = minRepeatMillis;
  }

  /** Calls per timed round. */
  public TimeEvaluator number(int n) { return new TimeEvaluator(rpc, module, function, n, repeat, minRepeatMillis); }

  /** Timed rounds. */
  public TimeEvaluator repeat(int n) { return new TimeEvaluator(rpc, module, function, number, n, minRepeatMillis); }

  /** Grow {@code number} until a round lasts at least this long. */
  public TimeEvaluator minRepeatMillis(int ms) { return new TimeEvaluator(rpc, module, function, number, repeat, ms); }

  /** Mean seconds per call of each round, measured on the device. */
  public double[] measure() throws IOException {
    RemoteFunction evaluator = rpc.getGlobalFunction("runtime.RPCTimeEvaluator");
    Object timer = evaluator.call(module, function, 1L, 0L, (long) number, (long) repeat, (long) minRepeatMillis, 100L, 0L, 1L, 0L, "");
    if (!(timer instanceof RemoteFunction f)) throw new IOException("runtime.RPCTimeEvaluator returned " + timer + ", not a function");
    Object result = f.call();
    if (!(result instanceof byte[] bytes) || bytes.length != 8 * repeat) {
      throw new IOException("the time evaluator returned " + result + ", not " + repeat + " doubles");
    }
    double[] seconds = new double[repeat];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(seconds);
    return seconds;
  }

  public int number() { return number; }

  public int repeat() { return repeat; }
}
