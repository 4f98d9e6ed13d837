/*
 * Kiln kernel library: ONNX operators that no TFLite reference kernel
 * computes. See kiln_onnx.h.
 */
#include "kiln_onnx.h"

#include <math.h>
#include <stdint.h>

void kiln_erf_f32(const float *x, float *y, int32_t count) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = erff(x[i]);
}
