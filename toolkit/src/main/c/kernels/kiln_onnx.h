/*
 * Kiln kernel library: ONNX operators that no TFLite reference kernel
 * computes (Eval only; the Java emitters check shapes and types).
 */
#ifndef KILN_ONNX_H
#define KILN_ONNX_H

#include <stdint.h>

#include "kiln_nn2.h" /* kiln_bmm_params */

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

/*
 * AVERAGE_POOL_2D of NHWC int8 codes as onnxruntime's fused QDQ kernels
 * compute it (Options.QLinearPool). code_offset is 128 when onnxruntime
 * computes on uint8 codes (the stored codes plus 128; the zero points here
 * are in that domain), else 0.
 */
typedef struct {
  int32_t batches, in_h, in_w, channels, out_h, out_w;
  int32_t filter_h, filter_w, stride_h, stride_w, pad_top, pad_left;
  int32_t count_include_pad; /* QLinearAveragePool: divide by filter_h * filter_w */
  int32_t code_offset;
  int32_t input_zero;
  int32_t output_zero;
  float input_scale;
  float output_scale;
  float global_scale; /* QLinearGlobalAveragePool: s_x / (s_y * count), float32 */
} kiln_qlinear_pool_params;

/* QLinearGlobalAveragePool: y = rne(float32(sum(x - z_x)) * global_scale) + z_y, one window per image */
void kiln_qlinear_global_avg_pool_s8(const kiln_qlinear_pool_params *p, const int8_t *x, int8_t *y);

/* QLinearAveragePool: y = rne(sum(float32(s_x * (x - z_x))) / count / s_y + z_y), float32 in window order */
void kiln_qlinear_avg_pool_s8(const kiln_qlinear_pool_params *p, const int8_t *x, int8_t *y);

/*
 * SOFTMAX of int8 codes over rows of depth elements as onnxruntime's
 * QLinearSoftmax (Options.QLinearSoftmax): e = table[x - max + 255], the
 * row's float32 sum in order, y = min(rne(e * output_scale / sum) + z_y, 127).
 */
typedef struct {
  int32_t rows;
  int32_t depth;
  int32_t output_zero;  /* of the stored int8 codes */
  float output_scale;   /* floor(1 / s_y) */
  const float *table;   /* 256 entries */
} kiln_qlinear_softmax_params;

void kiln_qlinear_softmax_s8(const kiln_qlinear_softmax_params *p, const int8_t *x, int8_t *y);

/*
 * BATCH_MATMUL of int8 codes as onnxruntime's QLinearMatMul: the int32 sum of
 * (x + x_offset)(y + y_offset) as kiln_batch_matmul_s8, then
 * rne(float32(sum) * scale) + output_offset, clamped to int8 (out_multiplier
 * and out_shift are not used).
 */
void kiln_qlinear_batch_matmul_s8(const kiln_bmm_params *p, float scale, const int8_t *x, const int8_t *y, int8_t *output);

#endif /* KILN_ONNX_H */
