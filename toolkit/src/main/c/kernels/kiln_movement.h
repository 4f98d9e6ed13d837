/*
 * Kiln kernel library: data movement (Eval only) for SLICE, STRIDED_SLICE, REVERSE_V2, TILE,
 * BROADCAST_TO, SPLIT, SPLIT_V, UNPACK (walks), GATHER, EMBEDDING_LOOKUP, GATHER_ND,
 * DYNAMIC_UPDATE_SLICE and BROADCAST_ARGS. Every kernel moves bytes and never looks at values
 * (so it serves every dtype); indices are int32 or int64 and are read at run time.
 *
 * A walk is what the Java compiler derives from the op's constant inputs: output element
 * (i0..i5), written in order, is input element offset + sum(ik * step[k]); a negative step reads
 * an axis backwards (REVERSE_V2, negative strides), a zero step repeats it (TILE, BROADCAST_TO).
 */
#ifndef KILN_MOVEMENT_H
#define KILN_MOVEMENT_H

#include <stdint.h>

#define KILN_WALK_RANK 6

typedef struct {
  int32_t shape[KILN_WALK_RANK]; /* output shape, outermost first, padded with leading 1s */
  int32_t step[KILN_WALK_RANK];  /* input elements between neighbours along each output axis */
  int32_t offset;                /* input element of output element 0 */
  int32_t element_bytes;         /* 1, 2, 4 or 8 */
} kiln_walk_params;

/* y = the walk of x; x and y do not overlap. */
void kiln_walk_copy(const kiln_walk_params *p, const void *x, void *y);

typedef struct {
  int32_t rank;                  /* axes of the input (<= KILN_WALK_RANK) */
  int32_t shape[KILN_WALK_RANK]; /* input shape, padded with leading 1s */
  int32_t size[KILN_WALK_RANK];  /* output shape, padded with leading 1s */
  int32_t element_bytes;
  int32_t index_bytes;           /* 4 or 8 */
} kiln_slice_params;

/*
 * SLICE with begin read at run time (the size is static). Each begin is clamped to
 * [0, shape - size] so the copy stays inside x (TFLite fails the invoke instead).
 */
void kiln_slice(const kiln_slice_params *p, const void *x, const void *begin, void *y);

typedef struct {
  int32_t batch;       /* leading batch_dims, shared by params and indices */
  int32_t outer;       /* params axes between the batch axes and the gathered axis */
  int32_t axis_size;   /* length of the gathered axis */
  int32_t coords;      /* indices per batch */
  int32_t inner_bytes; /* bytes of params after the gathered axis */
  int32_t index_bytes; /* 4 (int32) or 8 (int64) */
} kiln_gather_params;

/*
 * GATHER: y[b][o][c][:] = params[b][o][indices[b][c]][:]. Returns the number of indices outside
 * [0, axis_size) (their slices are zero-filled; TFLite fails the invoke).
 */
int32_t kiln_gather(const kiln_gather_params *p, const void *params, const void *indices, void *y);

typedef struct {
  int32_t count;       /* ids */
  int32_t rows;        /* table rows */
  int32_t cols;        /* values per row */
  int32_t index_bytes; /* 4 (int32) or 8 (int64) */
  int32_t per_row;     /* 1: scales[row], 0: scales[0] for every row */
} kiln_embedding_hybrid_params;

/*
 * EMBEDDING_LOOKUP of an int8 table into float32 rows (TFLite's EvalHybrid): y[i][:] = table[ids[i]][:] *
 * scale, the scale of row ids[i] with per-row quantization. TFLite multiplies in double and narrows to float;
 * an int8 code times a float32 scale is exact in double, so one float32 product is the same value. Returns the
 * number of ids outside [0, rows) (their rows are zero-filled; TFLite fails the invoke).
 */
int32_t kiln_embedding_lookup_hybrid(const kiln_embedding_hybrid_params *p, const int8_t *table, const void *ids,
                                     const float *scales, float *y);

typedef struct {
  int32_t count;                     /* index vectors */
  int32_t depth;                     /* entries per index vector, <= KILN_WALK_RANK */
  int32_t dims[KILN_WALK_RANK];      /* params dimensions the entries index */
  int32_t stride_bytes[KILN_WALK_RANK];
  int32_t slice_bytes;               /* bytes each index vector selects */
  int32_t index_bytes;               /* 4 or 8 */
} kiln_gather_nd_params;

/* GATHER_ND; returns the number of out-of-range index vectors (zero-filled). */
int32_t kiln_gather_nd(const kiln_gather_nd_params *p, const void *params, const void *indices, void *y);

typedef struct {
  int32_t rank;                          /* <= KILN_WALK_RANK */
  int32_t operand_shape[KILN_WALK_RANK];
  int32_t update_shape[KILN_WALK_RANK];
  int32_t element_bytes;
  int32_t index_bytes;                   /* 4 or 8 */
} kiln_update_slice_params;

/*
 * DYNAMIC_UPDATE_SLICE: y = operand with update written at start (one index per axis, each
 * clamped to [0, operand - update] as TFLite does). y may be operand itself.
 */
void kiln_dynamic_update_slice(const kiln_update_slice_params *p, const void *operand, const void *update,
                               const void *start, void *y);

/* BROADCAST_ARGS: y = the broadcast of shapes a (na entries) and b (nb); entries of index_bytes. */
void kiln_broadcast_args(int32_t na, int32_t nb, int32_t index_bytes, const void *a, const void *b, void *y);

#endif /* KILN_MOVEMENT_H */
