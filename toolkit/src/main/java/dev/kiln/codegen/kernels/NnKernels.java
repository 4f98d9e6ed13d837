package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.OpType;
import java.util.List;
import java.util.Map;

/** Windowed and reduction ops: CONV_2D (incl. hybrid), DEPTHWISE_CONV_2D, FULLY_CONNECTED, pools, PAD, MEAN. */
final class NnKernels {
  static final List<String> SOURCES = List.of(
      "kiln_nn.h", "kiln_nn_util.h", "kiln_nn_conv.c", "kiln_nn_fc.c", "kiln_nn_pool.c", "kiln_nn_pad.c",
      "kiln_nn_mean.c", "kiln_nn_quant.c");

  private NnKernels() {}

  static void register(Map<OpType, KernelEmitter> emitters) {
    emitters.put(OpType.CONV_2D, new ConvEmitter(OpType.CONV_2D));
    emitters.put(OpType.DEPTHWISE_CONV_2D, new ConvEmitter(OpType.DEPTHWISE_CONV_2D));
    emitters.put(OpType.FULLY_CONNECTED, new FullyConnectedEmitter());
    emitters.put(OpType.MAX_POOL_2D, new PoolEmitter(OpType.MAX_POOL_2D));
    emitters.put(OpType.AVERAGE_POOL_2D, new PoolEmitter(OpType.AVERAGE_POOL_2D));
    emitters.put(OpType.PAD, new PadEmitter());
    emitters.put(OpType.MEAN, new MeanEmitter());
  }
}
