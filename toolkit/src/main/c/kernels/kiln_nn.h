/*
 * Windowed and reduction kernels (Eval only): CONV_2D (int8, float32, hybrid), DEPTHWISE_CONV_2D,
 * FULLY_CONNECTED, MAX_POOL_2D, AVERAGE_POOL_2D, PAD, MEAN.
 *
 * Everything a kernel needs is computed at compile time by Kiln (Prepare in Java) and handed over
 * in a const parameter struct: shapes, strides, explicit padding, zero-point offsets, per-channel
 * requantization multipliers and shifts, clamp ranges. The kernels reproduce TensorFlow Lite 2.21's
 * reference kernels (BUILTIN_REF): bit-exact for int8, and for float32 every sum is accumulated
 * in the reference order with the bias added after it (see tflite-numerics.md; the section is
 * named next to each function). No kernel allocates, prints or needs libm; pointers to inputs,
 * weights and parameters are const, and outputs never alias inputs.
 *
 * Layout is NHWC; conv filters OHWI [out_c, filter_h, filter_w, in_c / groups]; depthwise filters
 * [1, filter_h, filter_w, out_c]; fully-connected weights [units, depth]. Padding taps are skipped.
 */
#ifndef KILN_NN_H
#define KILN_NN_H

#include <float.h>
#include <stddef.h>
#include <stdint.h>

/*
 * 1 when a model has a conv, pool or fully-connected size above 65535 (a kiln_dim_t dimension) or
 * 255 (a kiln_dim8_t: window, stride, dilation, padding, depth multiplier); the generator sets it
 * in that model's copy (as KILN_CONV_S8_PORTABLE_USED). Off, those fields are 16 and 8 bits (a
 * conv struct 100 -> 56 B on a 32-bit core). They are read as ints, so the kernels compute the
 * same either way.
 */
#ifndef KILN_DIM_WIDE_USED
#define KILN_DIM_WIDE_USED 0
#endif
#if KILN_DIM_WIDE_USED
typedef int32_t kiln_dim_t;
typedef int32_t kiln_dim8_t;
#else
typedef uint16_t kiln_dim_t;
typedef uint8_t kiln_dim8_t;         /* window sizes, strides, dilations, paddings, depth multiplier */
#endif

/* ---------------------------------------------------------------------------------------------
 * CONV_2D and DEPTHWISE_CONV_2D
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  /* geometry (kiln_dim_t: 16-bit unless the model sets KILN_DIM_WIDE_USED) */
  kiln_dim_t batches;
  kiln_dim_t in_h, in_w, in_c;
  kiln_dim_t out_h, out_w, out_c;
  kiln_dim_t groups;                 /* CONV_2D: in_c / filter input depth (1 = ordinary conv) */
  kiln_dim8_t filter_h, filter_w;
  kiln_dim8_t stride_h, stride_w;
  kiln_dim8_t dilation_h, dilation_w;
  kiln_dim8_t pad_top, pad_left;     /* rows/columns of implicit padding before the image */
  kiln_dim8_t depth_multiplier;      /* DEPTHWISE_CONV_2D: out_c / in_c */
  uint8_t requant32;                 /* int8: 1 = the compiler proved |acc + bias| *
                                        2^(max(shift, 0) + 1) < 2^31 for every channel, so MBQM
                                        runs in 32-bit form (kiln_requant32 in kiln_nn_util.h) */
  uint8_t staged;                    /* hybrid: 1 = scratch holds staged windows after the image
                                        (kiln_conv_s8 is given scratch only when staged) */
  /* int8 requantization (unused by the float kernels) */
  int32_t input_offset;              /* -(input zero point); 0 for the hybrid kernel */
  int32_t output_offset;             /* +(output zero point) */
  int32_t act_min, act_max;          /* int8 clamp of the fused activation */
  /* An int8 kernel reads only s8, a float or hybrid one only f32: they share their bytes. */
  union {
    struct {                         /* (out_shift next to out_multiplier: one LDRD) */
      const int32_t *out_rescale;    /* [out_c] x KILN_RESCALE_WORDS: onnxruntime's requantization
                                        as the compiler's exact integer rescale or, for a channel
                                        with none, its float32 form (KILN_RESCALE_FLOAT), or NULL
                                        (MBQM) */
      const int32_t *out_multiplier; /* [out_c] Q31 multipliers */
      const int8_t *out_shift;       /* [out_c] exponents (-31 .. 30), > 0 shifts left */
    } s8;
    struct {                         /* float32 output (float and hybrid kernels) */
      float act_min_f, act_max_f;
      union {
        float scale;                 /* kiln_conv_hybrid_f32: the filter scale */
        const float *scales;         /* kiln_conv_hybrid_per_channel_f32: [out_c] filter scales */
      } filter;
    } f32;
  } out;
} kiln_conv_params;

/*
 * Staged int8 and hybrid CONV_2D (int8: scratch given; hybrid: p->staged = 1): the windows
 * of KILN_CONV_PIXELS output pixels are copied, as int16 input + offset, to scratch and every
 * filter runs over all of them; each window takes ((filter_h * filter_w * in_c / groups) + 15) &
 * ~15 int16 values. Otherwise (0) the windows are summed filter row by filter row from the image
 * and need no scratch.
 */
#define KILN_CONV_PIXELS 4

/*
 * 1 when a model has an int8 CONV_2D or DEPTHWISE_CONV_2D whose channels do not all take the 32-bit
 * requantization (p->requant32 not proven, or onnxruntime's out_rescale table): the code
 * generator sets it as KILN_CONV_S8_PORTABLE_USED below. Off, a 32-bit core's build of the int8 kernels has
 * only the 32-bit form (every channel of such a model takes it anyway), except on a DSP core
 * (kiln_conv_requant32 says why); 64-bit hosts, which take the 64-bit product for every channel,
 * are unchanged.
 */
#ifndef KILN_CONV_RESCALE64_USED
#define KILN_CONV_RESCALE64_USED 0
#endif

/*
 * 1 when a model has an int8 CONV_2D that kiln_conv_s8's DSP path does not take (grouped, or a
 * window of more than KILN_CONV_DSP_WINDOW_MAX = 576 values): the code generator sets it in the
 * model's copy of this header (ModelWriter.kernelFiles). Off, a DSP core's build leaves the
 * portable int8 path out of kiln_conv_s8 (about 6 KB of Cortex-M4 code no other model calls);
 * cores without the DSP extension always have it.
 */
#ifndef KILN_CONV_S8_PORTABLE_USED
#define KILN_CONV_S8_PORTABLE_USED 0
#endif

/*
 * 1 when a model has an int8 DEPTHWISE_CONV_2D whose channels kiln_depthwise_conv_s8's DSP path
 * does not all take (a depth multiplier other than 1, or output channels not a multiple of 4); set
 * as KILN_CONV_S8_PORTABLE_USED. Off, a DSP core's build leaves the portable loops out.
 */
#ifndef KILN_DEPTHWISE_S8_PORTABLE_USED
#define KILN_DEPTHWISE_S8_PORTABLE_USED 0
#endif

/*
 * int8 x int8 (per-channel or per-tensor filter scales), bias int32 or NULL. Section 3.1.
 * scratch: the staged windows (2 * KILN_CONV_PIXELS * run bytes) for a staged conv, else NULL.
 */
void kiln_conv_s8(const kiln_conv_params *p, const int8_t *input, const int8_t *filter,
                  const int32_t *bias, int8_t *output, void *scratch);

/* float32; bias may be NULL. Section 3.1 (sum over fy, fx, ci; bias after the sum). */
void kiln_conv_f32(const kiln_conv_params *p, const float *input, const float *filter,
                   const float *bias, float *output);

/*
 * Hybrid: float32 input/output, int8 symmetric filter with one scale (p->out.f32.filter.scale).
 * Each batch image is quantized symmetrically on the fly into scratch (in_h * in_w * in_c bytes,
 * then, if p->staged, the staged windows from the next multiple of 16 bytes; scratch
 * 16-byte aligned); out = (float)acc * (image scale * filter scale) + bias. Section 9.
 */
void kiln_conv_hybrid_f32(const kiln_conv_params *p, const float *input, const int8_t *filter,
                          const float *bias, float *output, void *scratch);

/*
 * Hybrid with per-channel filter scales (p->out.f32.filter.scales): TFLite's HybridConvPerChannel.
 * Each batch image is quantized asymmetrically (TFLite's AsymmetricQuantizeFloats, a per-image
 * zero point) into scratch (laid out as for kiln_conv_hybrid_f32); out = (float)acc *
 * filter_scales[oc] * image scale + bias.
 */
void kiln_conv_hybrid_per_channel_f32(const kiln_conv_params *p, const float *input,
                                      const int8_t *filter, const float *bias, float *output,
                                      void *scratch);

/* Section 3.2: output channel oc reads input channel oc / depth_multiplier. */
void kiln_depthwise_conv_s8(const kiln_conv_params *p, const int8_t *input, const int8_t *filter,
                            const int32_t *bias, int8_t *output);

void kiln_depthwise_conv_f32(const kiln_conv_params *p, const float *input, const float *filter,
                             const float *bias, float *output);

/* ---------------------------------------------------------------------------------------------
 * FULLY_CONNECTED
 * ------------------------------------------------------------------------------------------- */

/*
 * TF 2.21's reference int8 FULLY_CONNECTED rescales with one rounding of a double product,
 * y = round(double(acc) * M). Kiln keeps double arithmetic off the device. Usually the compiler
 * finds an integer rescale (out_rescale, KILN_RESCALE_WORDS words per entry, see
 * kiln_linear_rescale in kiln_nn_util.h) proven equal, after the zero point and the clamp, for
 * every int32 acc. Otherwise (out_rescale NULL) each M is handed over as three int32 words
 * {mantissa >> 32, mantissa & 0xffffffff (bit pattern), exponent} with M = mantissa * 2^exponent
 * (mantissa < 2^53; 0 means M = 0), and kiln_f64_rescale rounds the exact integer product to 53
 * bits like the double multiplication, then half away from zero. Same result as the double
 * formula for every int32 acc.
 */
#define KILN_F64_WORDS 3

typedef struct {
  kiln_dim_t batches;                /* numel(input) / depth */
  kiln_dim_t depth;                  /* accumulation depth D */
  kiln_dim_t units;                  /* output units U */
  uint8_t per_channel;               /* int8: one rescale entry per unit (else one entry); hybrid:
                                        per-unit weight scales (out.f32.filter.scales) */
  uint8_t asymmetric;                /* hybrid: asymmetric_quantize_inputs (per-row zero point) */
  /* int8 */
  int32_t output_offset;             /* +(output zero point) */
  int32_t act_min, act_max;
  /* An int8 kernel reads only s8, a float or hybrid one only f32: they share their bytes. */
  union {
    struct {                         /* (the two offsets side by side: one LDRD) */
      int32_t input_offset;          /* -(input zero point) */
      int32_t filter_offset;         /* -(filter zero point), per-tensor filters only */
      const int32_t *out_scale;      /* KILN_F64_WORDS words per entry (used if no out_rescale) */
      const int32_t *out_rescale;    /* KILN_RESCALE_WORDS words per entry, or NULL */
    } s8;
    struct {                         /* float32 output (float and hybrid) */
      float act_min_f, act_max_f;
      union {
        float scale;                 /* hybrid, per-tensor weights: the weight scale */
        const float *scales;         /* hybrid, per_channel: [units] weight scales */
      } filter;
    } f32;
  } out;
} kiln_fc_params;

/*
 * 1 when a model has an int8 FULLY_CONNECTED that kiln_fully_connected_s8's DSP path does not take
 * whole (units not a multiple of 4, or a depth above KILN_FC_DSP_DEPTH_MAX = 1024); set as
 * KILN_CONV_S8_PORTABLE_USED. Off, a DSP core's build leaves the portable dot products out.
 */
#ifndef KILN_FC_S8_PORTABLE_USED
#define KILN_FC_S8_PORTABLE_USED 0
#endif

/*
 * 1 when a model has an int8 FULLY_CONNECTED that the DSP path takes at least in part (4 units or
 * more, a depth up to KILN_FC_DSP_DEPTH_MAX); set as KILN_CONV_S8_PORTABLE_USED. Off, a DSP
 * core's build is the portable kernel (the path a model of 1-3 units takes anyway).
 */
#ifndef KILN_FC_S8_DSP_USED
#define KILN_FC_S8_DSP_USED 0
#endif

/* Section 3.3 (double requantization). bias int32 or NULL. */
void kiln_fully_connected_s8(const kiln_fc_params *p, const int8_t *input, const int8_t *filter,
                             const int32_t *bias, int8_t *output);

void kiln_fully_connected_f32(const kiln_fc_params *p, const float *input, const float *filter,
                              const float *bias, float *output);

/*
 * Hybrid: float32 input/output, int8 symmetric weights (per-tensor or per-channel scales); each
 * input row is quantized on the fly into scratch (depth bytes, any alignment), symmetrically or
 * with a per-row zero point (asymmetric_quantize_inputs, the TF 2.21 converter's default);
 * out = bias + (float)dot * (row scale * weight scale[u]).
 */
void kiln_fully_connected_hybrid_f32(const kiln_fc_params *p, const float *input,
                                     const int8_t *filter, const float *bias, float *output,
                                     void *scratch);

/* round(double(acc) * M) with int32 saturation, computed without floating point. */
int32_t kiln_f64_rescale(int32_t acc, const int32_t *multiplier);

/* ---------------------------------------------------------------------------------------------
 * MAX_POOL_2D and AVERAGE_POOL_2D (section 4; int8 works on raw codes)
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  kiln_dim_t batches;                /* (kiln_dim_t: as in kiln_conv_params) */
  kiln_dim_t in_h, in_w, channels;
  kiln_dim_t out_h, out_w;
  kiln_dim8_t filter_h, filter_w;
  kiln_dim8_t stride_h, stride_w;
  kiln_dim8_t pad_top, pad_left;
  int32_t act_min, act_max;          /* int8 */
  float act_min_f, act_max_f;        /* float32 */
} kiln_pool_params;

void kiln_max_pool_s8(const kiln_pool_params *p, const int8_t *input, int8_t *output);
void kiln_max_pool_f32(const kiln_pool_params *p, const float *input, float *output);
void kiln_avg_pool_s8(const kiln_pool_params *p, const int8_t *input, int8_t *output);
void kiln_avg_pool_f32(const kiln_pool_params *p, const float *input, float *output);

/* ---------------------------------------------------------------------------------------------
 * PAD
 * ------------------------------------------------------------------------------------------- */

#define KILN_PAD_MAX_RANK 6

typedef struct {
  /* shapes extended to 6 dimensions with leading 1s */
  int32_t in_dims[KILN_PAD_MAX_RANK];
  int32_t before[KILN_PAD_MAX_RANK];
  int32_t after[KILN_PAD_MAX_RANK];
} kiln_pad_params;

/* int8: pads with pad_value (the output zero point). */
void kiln_pad_s8(const kiln_pad_params *p, const int8_t *input, int8_t *output, int8_t pad_value);
/* float32: pads with pad_value (0.0f for PAD). */
void kiln_pad_f32(const kiln_pad_params *p, const float *input, float *output, float pad_value);

/* ---------------------------------------------------------------------------------------------
 * MEAN
 * ------------------------------------------------------------------------------------------- */

#define KILN_MEAN_MAX_DIMS 6

/*
 * The input is described as kept dimensions (one output element per index) and reduced
 * dimensions (summed), each with its size and its stride in the input, outermost first.
 * For one output element the reduced elements are summed in increasing input order, like TFLite.
 */
typedef struct {
  int32_t num_kept;
  int32_t kept_size[KILN_MEAN_MAX_DIMS];
  int32_t kept_stride[KILN_MEAN_MAX_DIMS];
  int32_t num_reduced;
  int32_t reduced_size[KILN_MEAN_MAX_DIMS];
  int32_t reduced_stride[KILN_MEAN_MAX_DIMS];
  int32_t count;                     /* reduced elements per output element */
  /* int8: out = clamp(MBQM(sum - count * input_zero_point, multiplier, shift) + output z.p.) */
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t multiplier;
  int32_t shift;
} kiln_mean_params;

void kiln_mean_s8(const kiln_mean_params *p, const int8_t *input, int8_t *output);
void kiln_mean_f32(const kiln_mean_params *p, const float *input, float *output);

#endif /* KILN_NN_H */
