/*
 * Kiln kernel library: ONNX operators that no TFLite reference kernel
 * computes. See kiln_onnx.h.
 */
#include "kiln_onnx.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

void kiln_erf_f32(const float *x, float *y, int32_t count) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = erff(x[i]);
}

/*
 * TopK by insertion: the line is read once, front to back; an element enters the kept list (best
 * first, at most k long) at the position behind every entry it does not strictly beat, so equal
 * values keep their order of position (ONNX: the lower index first). Most elements lose to the
 * current k-th entry after one comparison. NaN beats nothing, so it is kept only while fewer than
 * k entries are kept.
 */
#define KILN_DEFINE_TOPK(name, T)                                                                        \
  void name(const T *x, T *values, int64_t *indices, int32_t outer, int32_t size, int32_t inner,       \
            int32_t k, int32_t largest) {                                                              \
    int32_t o;                                                                                         \
    int32_t in;                                                                                        \
    for (o = 0; o < outer; ++o) {                                                                      \
      for (in = 0; in < inner; ++in) {                                                                 \
        const T *src = x + ((size_t)o * (size_t)size * (size_t)inner + (size_t)in);                    \
        T *val = values + ((size_t)o * (size_t)k * (size_t)inner + (size_t)in);                        \
        int64_t *idx = indices + ((size_t)o * (size_t)k * (size_t)inner + (size_t)in);                 \
        int32_t kept = 0;                                                                              \
        int32_t i;                                                                                     \
        for (i = 0; i < size; ++i) {                                                                   \
          const T v = src[(size_t)i * (size_t)inner];                                                  \
          int32_t p = kept;                                                                            \
          int32_t j;                                                                                   \
          while (p > 0 && (largest ? v > val[(size_t)(p - 1) * (size_t)inner]                          \
                                   : v < val[(size_t)(p - 1) * (size_t)inner])) {                      \
            --p;                                                                                       \
          }                                                                                            \
          if (p >= k) continue;                                                                        \
          if (kept < k) ++kept;                                                                        \
          for (j = kept - 1; j > p; --j) {                                                             \
            val[(size_t)j * (size_t)inner] = val[(size_t)(j - 1) * (size_t)inner];                     \
            idx[(size_t)j * (size_t)inner] = idx[(size_t)(j - 1) * (size_t)inner];                     \
          }                                                                                            \
          val[(size_t)p * (size_t)inner] = v;                                                          \
          idx[(size_t)p * (size_t)inner] = i;                                                          \
        }                                                                                              \
      }                                                                                                \
    }                                                                                                  \
  }

KILN_DEFINE_TOPK(kiln_topk_f32, float)
KILN_DEFINE_TOPK(kiln_topk_s8, int8_t)
KILN_DEFINE_TOPK(kiln_topk_u8, uint8_t)
KILN_DEFINE_TOPK(kiln_topk_s16, int16_t)
KILN_DEFINE_TOPK(kiln_topk_s32, int32_t)
KILN_DEFINE_TOPK(kiln_topk_s64, int64_t)
