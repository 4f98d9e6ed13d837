/*
 * Kiln kernel library: data movement between layouts (Eval only).
 *
 * TRANSPOSE: a permutation of up to 6 axes, for elements of 1, 2, 4 or 8 bytes (any dtype: the
 * kernel moves bytes, it never looks at values). The compiler (Java) drops axes of size 1, merges
 * neighbouring output axes that stay neighbours in the input, pads the result to 6 axes with
 * leading 1s and hands over, per output axis, the element step in the input. The kernel only
 * loops; when the innermost axis is contiguous in the input it copies rows with memcpy.
 */
#ifndef KILN_LAYOUT_H
#define KILN_LAYOUT_H

#include <stdint.h>

#define KILN_TRANSPOSE_RANK 6

typedef struct {
  int32_t shape[KILN_TRANSPOSE_RANK];     /* output shape, outermost first */
  int32_t in_stride[KILN_TRANSPOSE_RANK]; /* input elements between neighbours along each output axis */
  int32_t element_bytes;                  /* 1, 2, 4 or 8 */
} kiln_transpose_params;

/* y = x with its axes permuted; x and y do not overlap. */
void kiln_transpose(const kiln_transpose_params *p, const void *x, void *y);

#endif /* KILN_LAYOUT_H */
