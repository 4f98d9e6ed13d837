/*
 * Reductions, ARG_MAX/ARG_MIN and CUMSUM (TF 2.21 reference kernels: reduce.cc ReduceGeneric and
 * QuantizedMeanOrSum, arg_min_max.h, the CumSum scan). See kiln_reduce.h.
 */
#include <float.h>
#include <math.h>

#include "kiln_fixedpoint.h"
#include "kiln_reduce.h"

/* An odometer over up to 6 (size, stride) groups, innermost last; offset is the running input offset. */
typedef struct {
  int32_t index[KILN_REDUCE_MAX_DIMS];
  int32_t offset;
} kiln_walk;

static void kiln_walk_start(kiln_walk *w) {
  int32_t d;
  for (d = 0; d < KILN_REDUCE_MAX_DIMS; ++d) w->index[d] = 0;
  w->offset = 0;
}

/* Steps to the next index; returns 0 once every index has been visited. */
static int kiln_walk_next(kiln_walk *w, int32_t n, const int32_t *size, const int32_t *stride) {
  int32_t d;
  for (d = n - 1; d >= 0; --d) {
    w->offset += stride[d];
    if (++w->index[d] < size[d]) return 1;
    w->offset -= stride[d] * size[d];
    w->index[d] = 0;
  }
  return 0;
}

#define KILN_NEXT_KEPT(w) kiln_walk_next(&(w), p->num_kept, p->kept_size, p->kept_stride)
#define KILN_NEXT_REDUCED(w) kiln_walk_next(&(w), p->num_reduced, p->reduced_size, p->reduced_stride)

/* REDUCE_MAX / REDUCE_MIN: init lowest() / max(), reducer (in > acc) ? in : acc (and <). */
#define KILN_DEFINE_EXTREME(name, T, init, cmp)                                  \
  void name(const kiln_reduce_params *p, const T *input, T *output) {            \
    kiln_walk o;                                                                 \
    kiln_walk_start(&o);                                                         \
    do {                                                                         \
      const T *base = input + o.offset;                                          \
      T acc = (init);                                                            \
      kiln_walk r;                                                               \
      kiln_walk_start(&r);                                                       \
      do {                                                                       \
        const T v = base[r.offset];                                              \
        if (v cmp acc) acc = v;                                                  \
      } while (KILN_NEXT_REDUCED(r));                                            \
      *output++ = acc;                                                           \
    } while (KILN_NEXT_KEPT(o));                                                 \
  }

KILN_DEFINE_EXTREME(kiln_reduce_max_f32, float, -FLT_MAX, >)
KILN_DEFINE_EXTREME(kiln_reduce_max_s8, int8_t, INT8_MIN, >)
KILN_DEFINE_EXTREME(kiln_reduce_max_s16, int16_t, INT16_MIN, >)
KILN_DEFINE_EXTREME(kiln_reduce_min_f32, float, FLT_MAX, <)
KILN_DEFINE_EXTREME(kiln_reduce_min_s8, int8_t, INT8_MAX, <)
KILN_DEFINE_EXTREME(kiln_reduce_min_s16, int16_t, INT16_MAX, <)

void kiln_reduce_all_b(const kiln_reduce_params *p, const uint8_t *input, uint8_t *output) {
  kiln_walk o;
  kiln_walk_start(&o);
  do {
    const uint8_t *base = input + o.offset;
    uint8_t acc = 1;
    kiln_walk r;
    kiln_walk_start(&r);
    do {
      acc = (uint8_t)(base[r.offset] && acc);
    } while (KILN_NEXT_REDUCED(r));
    *output++ = acc;
  } while (KILN_NEXT_KEPT(o));
}

void kiln_reduce_sum_f32(const kiln_reduce_params *p, const float *input, float *output) {
  kiln_walk o;
  kiln_walk_start(&o);
  do {
    const float *base = input + o.offset;
    float acc = 0.0f;
    kiln_walk r;
    kiln_walk_start(&r);
    do {
      acc += base[r.offset];
    } while (KILN_NEXT_REDUCED(r));
    *output++ = acc;
  } while (KILN_NEXT_KEPT(o));
}

/*
 * int8 SUM with rescaling: the raw codes are summed in int32, then
 * (int8)(int32)(roundf(sum * scale + bias) + z_out) — no clamp, the int32 -> int8 conversion wraps
 * as TFLite's static_cast does on every two's complement target.
 */
void kiln_reduce_sum_s8(const kiln_reduce_params *p, const int8_t *input, int8_t *output) {
  kiln_walk o;
  kiln_walk_start(&o);
  do {
    const int8_t *base = input + o.offset;
    int32_t acc = 0;
    int32_t value;
    kiln_walk r;
    kiln_walk_start(&r);
    do {
      acc += base[r.offset];
    } while (KILN_NEXT_REDUCED(r));
    value = (int32_t)roundf((float)acc * p->scale + p->bias) + p->output_zero_point;
    *output++ = (int8_t)(uint8_t)((uint32_t)value & 0xFFu);
  } while (KILN_NEXT_KEPT(o));
}

/*
 * int16 SUM (TF 2.21's optimized QuantizedMeanOrSum, compute_sum): the codes are summed in int32, then
 * roundf(sum * scale) in float32 (zero points are 0 in 16x8), clamped to int16. The compiler keeps
 * |sum * scale| below 2^31, so the float -> int32 conversion is defined.
 */
void kiln_reduce_sum_s16(const kiln_reduce_params *p, const int16_t *input, int16_t *output) {
  kiln_walk o;
  kiln_walk_start(&o);
  do {
    const int16_t *base = input + o.offset;
    int32_t acc = 0;
    int32_t value;
    kiln_walk r;
    kiln_walk_start(&r);
    do {
      acc += base[r.offset];
    } while (KILN_NEXT_REDUCED(r));
    value = (int32_t)roundf((float)acc * p->scale + p->bias) + p->output_zero_point;
    *output++ = (int16_t)kiln_clamp_i32(value, INT16_MIN, INT16_MAX);
  } while (KILN_NEXT_KEPT(o));
}

/* int16 MEAN: the int8 MEAN arithmetic (kiln_nn_mean.c) with the int16 clamp. */
void kiln_reduce_mean_s16(const kiln_reduce_params *p, const int16_t *input, int16_t *output) {
  const int32_t zero_point_sum = p->count * p->input_zero_point;
  kiln_walk o;
  kiln_walk_start(&o);
  do {
    const int16_t *base = input + o.offset;
    int32_t acc = 0;
    int32_t value;
    kiln_walk r;
    kiln_walk_start(&r);
    do {
      acc += base[r.offset];
    } while (KILN_NEXT_REDUCED(r));
    value = kiln_mbqm(acc - zero_point_sum, p->multiplier, p->shift) + p->output_zero_point;
    *output++ = (int16_t)kiln_clamp_i32(value, INT16_MIN, INT16_MAX);
  } while (KILN_NEXT_KEPT(o));
}

/* ARG_MAX / ARG_MIN: std::greater / std::less, so the first extreme index is kept. */
#define KILN_DEFINE_ARG(name, T)                                                       \
  void name(const kiln_arg_params *p, const T *input, void *output) {                 \
    int32_t outer;                                                                     \
    int32_t inner;                                                                     \
    int32_t i;                                                                         \
    for (outer = 0; outer < p->outer; ++outer) {                                       \
      for (inner = 0; inner < p->inner; ++inner) {                                     \
        const T *in = input + (size_t)outer * (size_t)p->axis * (size_t)p->inner + (size_t)inner;              \
        const size_t out = (size_t)outer * (size_t)p->inner + (size_t)inner;                           \
        T best = in[0];                                                                \
        int32_t best_index = 0;                                                        \
        for (i = 1; i < p->axis; ++i) {                                                \
          const T v = in[(size_t)i * (size_t)p->inner];                                        \
          if (p->is_max ? v > best : v < best) {                                       \
            best = v;                                                                  \
            best_index = i;                                                            \
          }                                                                            \
        }                                                                              \
        if (p->output_64) {                                                            \
          ((int64_t *)output)[out] = best_index;                                       \
        } else {                                                                       \
          ((int32_t *)output)[out] = best_index;                                       \
        }                                                                              \
      }                                                                                \
    }                                                                                  \
  }

KILN_DEFINE_ARG(kiln_arg_f32, float)
KILN_DEFINE_ARG(kiln_arg_s8, int8_t)
KILN_DEFINE_ARG(kiln_arg_s16, int16_t)
KILN_DEFINE_ARG(kiln_arg_s32, int32_t)

/*
 * CUMSUM: one running sum per (outer, inner), along the axis forwards or backwards; exclusive
 * writes the sum before adding the element. U is the unsigned type the integer sums wrap in.
 */
#define KILN_DEFINE_CUMSUM(name, T, U)                                                 \
  void name(const kiln_cumsum_params *p, const T *input, T *output) {                 \
    int32_t outer;                                                                     \
    int32_t inner;                                                                     \
    int32_t i;                                                                         \
    for (outer = 0; outer < p->outer; ++outer) {                                       \
      for (inner = 0; inner < p->inner; ++inner) {                                     \
        const size_t base = (size_t)outer * (size_t)p->axis * (size_t)p->inner + (size_t)inner;                \
        U acc = 0;                                                                     \
        for (i = 0; i < p->axis; ++i) {                                                \
          const int32_t k = p->reverse ? p->axis - 1 - i : i;                          \
          const size_t at = base + (size_t)k * (size_t)p->inner;                               \
          if (p->exclusive) {                                                          \
            output[at] = (T)acc;                                                       \
            acc = (U)(acc + (U)input[at]);                                             \
          } else {                                                                     \
            acc = (U)(acc + (U)input[at]);                                             \
            output[at] = (T)acc;                                                       \
          }                                                                            \
        }                                                                              \
      }                                                                                \
    }                                                                                  \
  }

KILN_DEFINE_CUMSUM(kiln_cumsum_f32, float, float)
KILN_DEFINE_CUMSUM(kiln_cumsum_s32, int32_t, uint32_t)
KILN_DEFINE_CUMSUM(kiln_cumsum_s64, int64_t, uint64_t)
