/*
 * Kiln kernel library: ONNX operators that no TFLite reference kernel
 * computes (Eval only; the Java emitters check shapes and types).
 */
#ifndef KILN_ONNX_H
#define KILN_ONNX_H

#include <stdint.h>

/* y[i] = erf(x[i]) (ONNX Erf), float32 */
void kiln_erf_f32(const float *x, float *y, int32_t count);

#endif /* KILN_ONNX_H */
