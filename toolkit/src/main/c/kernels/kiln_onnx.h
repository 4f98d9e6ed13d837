/*
 * Kiln kernel library: ONNX operators that no TFLite reference kernel
 * computes (Eval only; the Java emitters check shapes and types).
 */
#ifndef KILN_ONNX_H
#define KILN_ONNX_H

#include <stdint.h>

/* y[i] = erf(x[i]) (ONNX Erf), float32 */
void kiln_erf_f32(const float *x, float *y, int32_t count);

/*
 * ONNX TopK along one axis of an [outer, size, inner] view: for every (outer, inner) line the k
 * largest (largest != 0) or smallest values, best first, ties to the lower position, into
 * values/indices viewed as [outer, k, inner]. No scratch: the outputs hold the kept entries.
 */
#define KILN_DECLARE_TOPK(name, T)                                                                   \
  void name(const T *x, T *values, int64_t *indices, int32_t outer, int32_t size, int32_t inner, \
            int32_t k, int32_t largest);
KILN_DECLARE_TOPK(kiln_topk_f32, float)
KILN_DECLARE_TOPK(kiln_topk_s8, int8_t)
KILN_DECLARE_TOPK(kiln_topk_u8, uint8_t)
KILN_DECLARE_TOPK(kiln_topk_s16, int16_t)
KILN_DECLARE_TOPK(kiln_topk_s32, int32_t)
KILN_DECLARE_TOPK(kiln_topk_s64, int64_t)

#endif /* KILN_ONNX_H */
