/*
 * TRANSPOSE (see kiln_layout.h). The output is written in order; the input is read through the
 * per-axis steps. One loop nest per element size so the innermost copy is a plain typed move.
 */
#include <string.h>

#include "kiln_layout.h"

#define KILN_TRANSPOSE_LOOP(T)                                                                   \
  do {                                                                                           \
    const T *in = (const T *)x;                                                                  \
    T *out = (T *)y;                                                                             \
    int32_t i0, i1, i2, i3, i4, i5;                                                              \
    for (i0 = 0; i0 < p->shape[0]; ++i0) {                                                       \
      const T *a0 = in + (size_t)i0 * (size_t)p->in_stride[0];                                   \
      for (i1 = 0; i1 < p->shape[1]; ++i1) {                                                     \
        const T *a1 = a0 + (size_t)i1 * (size_t)p->in_stride[1];                                 \
        for (i2 = 0; i2 < p->shape[2]; ++i2) {                                                   \
          const T *a2 = a1 + (size_t)i2 * (size_t)p->in_stride[2];                               \
          for (i3 = 0; i3 < p->shape[3]; ++i3) {                                                 \
            const T *a3 = a2 + (size_t)i3 * (size_t)p->in_stride[3];                             \
            for (i4 = 0; i4 < p->shape[4]; ++i4) {                                               \
              const T *a4 = a3 + (size_t)i4 * (size_t)p->in_stride[4];                           \
              const int32_t step = p->in_stride[5];                                              \
              for (i5 = 0; i5 < p->shape[5]; ++i5) *out++ = a4[(size_t)i5 * (size_t)step];       \
            }                                                                                    \
          }                                                                                      \
        }                                                                                        \
      }                                                                                          \
    }                                                                                            \
  } while (0)

/* Rows of shape[5] elements that are contiguous in the input too: one memcpy per row. */
static void transpose_rows(const kiln_transpose_params *p, const uint8_t *in, uint8_t *out) {
  const size_t e = (size_t)p->element_bytes;
  const size_t row = (size_t)p->shape[5] * e;
  int32_t i0, i1, i2, i3, i4;
  for (i0 = 0; i0 < p->shape[0]; ++i0) {
    const uint8_t *a0 = in + (size_t)i0 * (size_t)p->in_stride[0] * e;
    for (i1 = 0; i1 < p->shape[1]; ++i1) {
      const uint8_t *a1 = a0 + (size_t)i1 * (size_t)p->in_stride[1] * e;
      for (i2 = 0; i2 < p->shape[2]; ++i2) {
        const uint8_t *a2 = a1 + (size_t)i2 * (size_t)p->in_stride[2] * e;
        for (i3 = 0; i3 < p->shape[3]; ++i3) {
          const uint8_t *a3 = a2 + (size_t)i3 * (size_t)p->in_stride[3] * e;
          for (i4 = 0; i4 < p->shape[4]; ++i4) {
            memcpy(out, a3 + (size_t)i4 * (size_t)p->in_stride[4] * e, row);
            out += row;
          }
        }
      }
    }
  }
}

void kiln_transpose(const kiln_transpose_params *p, const void *x, void *y) {
  if (p->in_stride[5] == 1 && p->shape[5] > 1) {
    transpose_rows(p, (const uint8_t *)x, (uint8_t *)y);
    return;
  }
  switch (p->element_bytes) {
    case 1: KILN_TRANSPOSE_LOOP(uint8_t); break;
    case 2: KILN_TRANSPOSE_LOOP(uint16_t); break;
    case 4: KILN_TRANSPOSE_LOOP(uint32_t); break;
    default: KILN_TRANSPOSE_LOOP(uint64_t); break;
  }
}
