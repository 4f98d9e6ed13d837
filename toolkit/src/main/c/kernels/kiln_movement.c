/*
 * Data movement (see kiln_movement.h). Output is written in order; input is read through signed
 * per-axis steps, so one loop nest serves slices, reversals, tiles and broadcasts.
 */
#include <stddef.h>
#include <string.h>

#include "kiln_movement.h"

static int64_t index_at(const void *indices, int32_t index_bytes, int32_t i) {
  if (index_bytes == 8) return ((const int64_t *)indices)[i];
  return ((const int32_t *)indices)[i];
}

void kiln_walk_copy(const kiln_walk_params *p, const void *x, void *y) {
  const ptrdiff_t e = (ptrdiff_t)p->element_bytes;
  const uint8_t *base = (const uint8_t *)x + (ptrdiff_t)p->offset * e;
  uint8_t *out = (uint8_t *)y;
  /* The innermost axis is contiguous in the input when its step is 1: copy it as one row. */
  const int rows = p->step[5] == 1;
  const size_t row = (size_t)p->shape[5] * (size_t)e;
  int32_t i0, i1, i2, i3, i4, i5;
  for (i0 = 0; i0 < p->shape[0]; ++i0) {
    const uint8_t *a0 = base + (ptrdiff_t)i0 * p->step[0] * e;
    for (i1 = 0; i1 < p->shape[1]; ++i1) {
      const uint8_t *a1 = a0 + (ptrdiff_t)i1 * p->step[1] * e;
      for (i2 = 0; i2 < p->shape[2]; ++i2) {
        const uint8_t *a2 = a1 + (ptrdiff_t)i2 * p->step[2] * e;
        for (i3 = 0; i3 < p->shape[3]; ++i3) {
          const uint8_t *a3 = a2 + (ptrdiff_t)i3 * p->step[3] * e;
          for (i4 = 0; i4 < p->shape[4]; ++i4) {
            const uint8_t *a4 = a3 + (ptrdiff_t)i4 * p->step[4] * e;
            if (rows) {
              memcpy(out, a4, row);
              out += row;
              continue;
            }
            for (i5 = 0; i5 < p->shape[5]; ++i5) {
              memcpy(out, a4 + (ptrdiff_t)i5 * p->step[5] * e, (size_t)e);
              out += e;
            }
          }
        }
      }
    }
  }
}

void kiln_slice(const kiln_slice_params *p, const void *x, const void *begin, void *y) {
  kiln_walk_params w;
  int32_t stride = 1;
  int32_t d;
  w.offset = 0;
  w.element_bytes = p->element_bytes;
  for (d = KILN_WALK_RANK - 1; d >= 0; --d) {
    /* begin holds one entry per real axis; the padding axes (size 1) come first. */
    const int32_t real = d - (KILN_WALK_RANK - p->rank);
    int64_t b = real >= 0 ? index_at(begin, p->index_bytes, real) : 0;
    const int64_t hi = (int64_t)p->shape[d] - (int64_t)p->size[d];
    if (b > hi) b = hi;
    if (b < 0) b = 0;
    w.shape[d] = p->size[d];
    w.step[d] = stride;
    w.offset += (int32_t)b * stride;
    stride *= p->shape[d];
  }
  kiln_walk_copy(&w, x, y);
}

int32_t kiln_gather(const kiln_gather_params *p, const void *params, const void *indices, void *y) {
  const uint8_t *in = (const uint8_t *)params;
  uint8_t *out = (uint8_t *)y;
  const size_t inner = (size_t)p->inner_bytes;
  int32_t bad = 0;
  int32_t b, o, c;
  for (b = 0; b < p->batch; ++b) {
    for (o = 0; o < p->outer; ++o) {
      const uint8_t *slab = in + ((size_t)b * (size_t)p->outer + (size_t)o) * (size_t)p->axis_size * inner;
      for (c = 0; c < p->coords; ++c) {
        const int64_t i = index_at(indices, p->index_bytes, b * p->coords + c);
        if (i < 0 || i >= p->axis_size) {
          memset(out, 0, inner);
          ++bad;
        } else {
          memcpy(out, slab + (size_t)i * inner, inner);
        }
        out += inner;
      }
    }
  }
  return bad;
}

int32_t kiln_embedding_lookup_hybrid(const kiln_embedding_hybrid_params *p, const int8_t *table, const void *ids,
                                     const float *scales, float *y) {
  int32_t bad = 0;
  int32_t i, c;
  for (i = 0; i < p->count; ++i) {
    const int64_t row = index_at(ids, p->index_bytes, i);
    float *out = y + (size_t)i * (size_t)p->cols;
    if (row < 0 || row >= p->rows) {
      for (c = 0; c < p->cols; ++c) out[c] = 0.0f;
      ++bad;
    } else {
      const int8_t *codes = table + (size_t)row * (size_t)p->cols;
      const float scale = scales[p->per_row ? row : 0];
      for (c = 0; c < p->cols; ++c) out[c] = (float)codes[c] * scale;
    }
  }
  return bad;
}

int32_t kiln_gather_nd(const kiln_gather_nd_params *p, const void *params, const void *indices, void *y) {
  const uint8_t *in = (const uint8_t *)params;
  uint8_t *out = (uint8_t *)y;
  const size_t slice = (size_t)p->slice_bytes;
  int32_t bad = 0;
  int32_t k, d;
  for (k = 0; k < p->count; ++k) {
    size_t from = 0;
    int ok = 1;
    for (d = 0; d < p->depth; ++d) {
      const int64_t i = index_at(indices, p->index_bytes, k * p->depth + d);
      if (i < 0 || i >= p->dims[d]) ok = 0;
      else from += (size_t)i * (size_t)p->stride_bytes[d];
    }
    if (ok) {
      memcpy(out, in + from, slice);
    } else {
      memset(out, 0, slice);
      ++bad;
    }
    out += slice;
  }
  return bad;
}

void kiln_dynamic_update_slice(const kiln_update_slice_params *p, const void *operand, const void *update,
                               const void *start, void *y) {
  const size_t e = (size_t)p->element_bytes;
  size_t stride[KILN_WALK_RANK];
  int32_t shape[KILN_WALK_RANK];
  size_t base = 0;
  size_t total = e;
  int32_t d;
  int32_t idx[KILN_WALK_RANK];
  size_t n = 1;
  size_t k;
  const uint8_t *src = (const uint8_t *)update;
  uint8_t *out = (uint8_t *)y;
  for (d = p->rank - 1; d >= 0; --d) {
    stride[d] = total;
    total *= (size_t)p->operand_shape[d];
  }
  if (operand != y) memcpy(y, operand, total);
  for (d = 0; d < p->rank; ++d) {
    int64_t s = index_at(start, p->index_bytes, d);
    const int64_t hi = (int64_t)p->operand_shape[d] - (int64_t)p->update_shape[d];
    if (s > hi) s = hi;
    if (s < 0) s = 0;
    base += (size_t)s * stride[d];
    shape[d] = p->update_shape[d];
    idx[d] = 0;
    n *= (size_t)shape[d];
  }
  for (k = 0; k < n; ++k) {
    size_t at = base;
    for (d = 0; d < p->rank; ++d) at += (size_t)idx[d] * stride[d];
    memcpy(out + at, src, e);
    src += e;
    for (d = p->rank - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

void kiln_broadcast_args(int32_t na, int32_t nb, int32_t index_bytes, const void *a, const void *b, void *y) {
  const int32_t n = na > nb ? na : nb;
  int32_t i;
  for (i = 0; i < n; ++i) {
    const int64_t x = i < n - na ? 1 : index_at(a, index_bytes, i - (n - na));
    const int64_t z = i < n - nb ? 1 : index_at(b, index_bytes, i - (n - nb));
    const int64_t r = x == 1 ? z : x;
    if (index_bytes == 8) ((int64_t *)y)[i] = r;
    else ((int32_t *)y)[i] = (int32_t)r;
  }
}
