package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;

/**
 * EXP, LOG, RSQRT and GELU on int16 (zero points 0), as TensorFlow Lite 2.21's reference kernels: Prepare
 * builds TFLite's 513-entry table (LUTPopulate<int16_t> with a float32 transform, every step in
 * float32, each entry biased by half the midpoint interpolation error) and Eval reads it with
 * TFLite's interpolating LUTLookup (kiln_lut_s16). LOG of x <= 0 gives the output's minimum and
 * RSQRT of x <= 0 its maximum, as TFLite's transforms say; GELU uses the int8 tables' transforms.
 */
final class Lut16Emitter implements KernelEmitter {
  private final OpType type;

  Lut16Emitter(OpType type) {
    if (type != OpType.EXP && type != OpType.LOG && type != OpType.RSQRT && type != OpType.GELU) {
      throw new IllegalArgumentException(type.toString());
    }
    this.type = type;
  }

  static boolean isInt16(Op op) {
    return op.input(0) != null && (op.input(0).dtype() == DType.INT16 || op.output().dtype() == DType.INT16);
  }

  @Override public void check(Op op) {
    table(op);
  }

  short[] table(Op op) {
    ElementwiseKernels.requireArity(op, 1);
    ElementwiseKernels.requireSameShape(op, op.input(0), op.output());
    float sIn = Int16Emitter.int16(op, op.input(0), "input").scale();
    float sOut = Int16Emitter.int16(op, op.output(), "output").scale();
    ElementwiseKernels.count(op, op.input(0));
    Transform f = switch (type) {
      case EXP -> x -> (float) Math.exp(x);
      case LOG -> {
        float outputMin = (float) -32768 * sOut;
        yield x -> x <= 0f ? outputMin : (float) Math.log(x);
      }
      case RSQRT -> {
        float outputMax = (float) 32767 * sOut;
        yield x -> x <= 0f ? outputMax : 1f / (float) Math.sqrt(x);
      }
      case GELU -> op.options(dev.kiln.ir.Options.Gelu.class).approximate() ? Int8UnaryTables::geluTanh : Int8UnaryTables::gelu;
      default -> throw new IllegalStateException(type.toString());
    };
    short[] lut = populate(sIn, sOut, f);
    if (lut == null) throw unsupported(op, "the scales " + sIn + " -> " + sOut + " make TFLite's int16 table non-finite");
    return lut;
  }

  interface Transform { float apply(float x); }

  /** LUTPopulateInt16 with FloatT = float and zero points 0; null if a value is not finite. */
  static short[] populate(float inputScale, float outputScale, Transform transform) {
    float inputMin = inputScale * (float) -32768;
    float inputMax = inputScale * (float) 32767;
    float outputMin = outputScale * (float) -32768;
    float outputMax = outputScale * (float) 32767;
    int steps = 512;
    float step = (inputMax - inputMin) / (float) steps;
    float halfStep = step / 2f;
    float scalingInv = 65536f / (outputMax - outputMin);
    short[] lut = new short[steps + 1];
    for (int i = 0; i < steps; i++) {
      float val = transform.apply(inputMin + (float) i * step);
      float midpoint = transform.apply(inputMin + (float) i * step + halfStep);
      float next = transform.apply(inputMin + (float) (i + 1) * step);
      float sample = round(val * scalingInv);
      float interpolated = round((next * scalingInv + round(val * scalingInv)) / 2f);
      float midpointValue = round(midpoint * scalingInv);
      float bias = round((interpolated - midpointValue) / 2f);
      float v = Math.min(Math.max(sample - bias, -32768f), 32767f);
      if (Float.isNaN(v)) return null;
      lut[i] = (short) v;
    }
    float last = Math.min(Math.max(round(transform.apply(inputMax) * scalingInv), -32768f), 32767f);
    if (Float.isNaN(last)) return null;
    lut[steps] = (short) last;
    return lut;
  }

  /** std::round on a float: half away from zero; infinities stay (the clamp takes them). */
  private static float round(float x) {
    if (Float.isInfinite(x) || Float.isNaN(x) || Math.abs(x) >= 1 << 23) return x;
    return (float) FixedPoint.rhaz(x);
  }

  @Override public void emit(Op op, KernelContext ctx) {
    short[] lut = table(op);
    StringBuilder sb = new StringBuilder("{{");
    for (int i = 0; i < lut.length; i++) sb.append(i == 0 ? "" : ",").append(i % 16 == 0 ? "\n  " : " ").append(lut[i]);
    String table = ctx.constant("kiln_lut16", type.name().toLowerCase(java.util.Locale.ROOT) + "_lut", sb.append("}}").toString());
    ctx.body().line("kiln_lut_s16(&" + table + ", " + ctx.data(op.input(0)) + ", " + ctx.data(op.output()) + ", "
        + ElementwiseKernels.count(op, op.input(0)) + "u);");
  }
}
