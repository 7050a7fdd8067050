/**
 * @file bnn_kernels.h
 * @brief Every kernel of the bnn-lq runtime: parameter structs and signatures.
 *
 * This header is the manual. Conventions (layout, packing, quantized multipliers) are in
 * bnn_types.h. For every op there is:
 *   - bnn_<op>_ref(): the reference kernel, the definition (plain loops, portable C99);
 *   - bnn_<op>():     the dispatcher generated code calls; today it calls _ref. Optimized
 *                     variants (bnn_<op>_opt, ISA tags) get the same signature and params.
 * All kernels are plain functions of (params, inputs, outputs); they allocate nothing,
 * keep no state and return BNN_OK or the status of the first failed BNN_ENSURE.
 *
 * Ops and their TFLite / LCE names:
 *   LceQuantize       bnn_quantize_f32, bnn_quantize_s8, bnn_quantize_bool
 *   LceDequantize     bnn_dequantize_f32, bnn_dequantize_s8
 *   LceBconv2d        bnn_bconv2d
 *   LceBMaxPool2d     bnn_bmaxpool2d
 *   CONV_2D           bnn_conv2d_f32, bnn_conv2d_s8, bnn_conv2d_binw_f32 (±c weights, packed)
 *   DEPTHWISE_CONV_2D bnn_depthwise_conv2d_f32, bnn_depthwise_conv2d_s8
 *   FULLY_CONNECTED   bnn_fully_connected_f32, bnn_fully_connected_s8,
 *                     bnn_fully_connected_binw_f32 (±c weights, packed)
 *   MAX_POOL_2D       bnn_max_pool2d_f32, bnn_max_pool2d_s8
 *   AVERAGE_POOL_2D   bnn_avg_pool2d_f32, bnn_avg_pool2d_s8
 *   MEAN (over H, W)  bnn_mean_f32, bnn_mean_s8
 *   ADD, SUB          bnn_add_f32, bnn_add_s8, bnn_sub_f32, bnn_sub_s8
 *   MUL               bnn_mul_f32, bnn_mul_s8
 *   RESHAPE           bnn_copy (or nothing, when the planner aliases input and output)
 *   SOFTMAX           bnn_softmax_f32, bnn_softmax_s8 (+ bnn_softmax_s8_fill_table)
 *   PAD, PADV2        bnn_pad_f32, bnn_pad_s8
 *   CONCATENATION     bnn_concatenation (any dtype, any axis)
 *   QUANTIZE          bnn_affine_quantize_s8 (float -> int8), bnn_requantize_s8 (int8 -> int8)
 *   DEQUANTIZE        bnn_affine_dequantize_s8 (int8 -> float)
 *   RELU, RELU6, RELU_N1_TO_1   bnn_clamp_f32; int8: bnn_requantize_s8 with act bounds
 *   PRELU             bnn_prelu_f32, bnn_prelu_s8
 *   LEAKY_RELU        bnn_leaky_relu_f32, bnn_leaky_relu_s8
 *   LOGISTIC, TANH    bnn_logistic_f32, bnn_tanh_f32; int8: bnn_lut_s8 with a generated table
 *
 * Float activation bounds: act_min / act_max are floats; "no activation" is
 * -FLT_MAX / +FLT_MAX (RELU: 0 / FLT_MAX, RELU6: 0 / 6, RELU_N1_TO_1: -1 / 1).
 * int8 activation bounds: act_min / act_max are int32 in [-128, 127], already in the output's
 * quantized domain (TFLite's CalculateActivationRangeQuantized); none = -128 / 127.
 */
#ifndef BNN_KERNELS_H
#define BNN_KERNELS_H

#include "bnn/bnn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ===================================================================================== */
/* LceQuantize / LceDequantize                                                           */
/* ===================================================================================== */

/** LceQuantize: pack the last axis (spec §3, §4). */
typedef struct {
    int32_t rows;       /**< product of all dims but the last, >= 1 */
    int32_t channels;   /**< last dim C (unpacked), >= 1; output rows have BNN_WORDS(C) words */
    int32_t zero_point; /**< int8 input only: the input's zero point, [-128, 127]; else 0 */
} bnn_quantize_params_t;

/**
 * @brief LceQuantize of a float tensor: bit = 1 iff x <= -FLT_MIN (spec §9.4: negative
 *        normal numbers and -inf give 1; +-0, negative subnormals and NaN give 0).
 *        Decided on the IEEE bit pattern, so FPU flush-to-zero modes cannot change it.
 * @param[in]  in  [rows][channels] floats.
 * @param[out] out [rows][BNN_WORDS(channels)] words, padding bits 0.
 */
bnn_status_t bnn_quantize_f32_ref(const bnn_quantize_params_t *p, const float *in, uint32_t *out);
bnn_status_t bnn_quantize_f32(const bnn_quantize_params_t *p, const float *in, uint32_t *out);

/**
 * @brief LceQuantize of an int8 tensor: bit = 1 iff q < p->zero_point.
 * @param[in]  in  [rows][channels] int8.
 * @param[out] out [rows][BNN_WORDS(channels)] words.
 */
bnn_status_t bnn_quantize_s8_ref(const bnn_quantize_params_t *p, const int8_t *in, uint32_t *out);
bnn_status_t bnn_quantize_s8(const bnn_quantize_params_t *p, const int8_t *in, uint32_t *out);

/**
 * @brief LceQuantize of a bool tensor (one byte per value, 0 = false): bit = 1 iff false.
 * @param[in]  in  [rows][channels] bytes.
 * @param[out] out [rows][BNN_WORDS(channels)] words.
 */
bnn_status_t bnn_quantize_bool_ref(const bnn_quantize_params_t *p, const uint8_t *in, uint32_t *out);
bnn_status_t bnn_quantize_bool(const bnn_quantize_params_t *p, const uint8_t *in, uint32_t *out);

/** LceDequantize: unpack the last axis (spec §5). */
typedef struct {
    int32_t rows;       /**< product of all dims but the last, >= 1 */
    int32_t channels;   /**< last dim C of the output, >= 1 (input rows: BNN_WORDS(C) words) */
    float scale;        /**< int8 output only: output scale, > 0; else unused */
    int32_t zero_point; /**< int8 output only: output zero point, [-128, 127]; else unused */
} bnn_dequantize_params_t;

/** @brief LceDequantize to float: bit 0 -> +1.0f, bit 1 -> -1.0f.
 *  @param[in] in [rows][BNN_WORDS(channels)] words. @param[out] out [rows][channels]. */
bnn_status_t bnn_dequantize_f32_ref(const bnn_dequantize_params_t *p, const uint32_t *in, float *out);
bnn_status_t bnn_dequantize_f32(const bnn_dequantize_params_t *p, const uint32_t *in, float *out);

/** @brief LceDequantize to int8: off = round_half_away(1.0f / scale) (float division);
 *         bit 0 -> min(127, zp + off), bit 1 -> max(-128, zp - off).
 *  @param[in] in [rows][BNN_WORDS(channels)] words. @param[out] out [rows][channels]. */
bnn_status_t bnn_dequantize_s8_ref(const bnn_dequantize_params_t *p, const uint32_t *in, int8_t *out);
bnn_status_t bnn_dequantize_s8(const bnn_dequantize_params_t *p, const uint32_t *in, int8_t *out);

/* ===================================================================================== */
/* LceBconv2d                                                                            */
/* ===================================================================================== */

/** How taps outside the input (SAME padding) count (spec §6.4, §6.8). */
typedef enum {
    /** pad_values=1, and VALID (no outside taps): the input word is all +1, so an outside
     *  tap adds popcount(filter word) to acc. */
    BNN_BPAD_ONE = 0,
    /** pad_values=0, integer path (LCE's reference kernel; the only LCE behaviour for int8
     *  output): outside taps contribute 0 to the dot product, x2 = K - d_true exactly.
     *  For even Cg this equals LCE's "Cg/2 per outside tap"; odd Cg is the natural extension
     *  (LCE's reference kernel refuses it). Any output type. */
    BNN_BPAD_ZERO_INT = 1,
    /** pad_values=0, float output, activation NONE: LCE's default/indirect kernel (the
     *  oracle `Interpreter(fb)`): acc with one padding, y1 by the output transform, then
     *  out = y1 + (float)mul[co] * (float)S, S computed in the kernel from the filter
     *  (spec §6.8 normal regime, Appendix B when the dilated kernel exceeds the input).
     *  No table: costs no memory, only a border loop. Requires out_type BNN_OUT_F32. */
    BNN_BPAD_ZERO_FLOAT = 2
} bnn_bpad_t;

/**
 * LceBconv2d parameters. With Cg = channels_in / groups and K = KH * KW * Cg:
 *   acc = sum over taps of popcount(in ^ filter)            (outside taps: see pad_mode)
 *   float / int8:  x2 = clamp(2 * acc, clamp_min, clamp_max);  y = (float)x2 * mul[co];
 *                  y = y + bias[co]   (two roundings, no FMA)
 *                  float: out = y;  int8: out = sat_int8(round_half_away(y))
 *   packed:        bit = (acc > threshold[co])   (signed compare)
 * mul / bias are precomputed by the code generator in double and rounded to float (§6.5):
 *   mul  = (float)(-(double)pam / s),  bias = (float)(((double)pab + K*(double)pam) / s + z)
 * with s = 1, z = 0 for float output and the output scale / zero point for int8.
 */
typedef struct {
    bnn_window_t win;        /**< geometry; kernel_h/w = filter KH/KW; dilation >= 1 */
    int32_t channels_in;     /**< unpacked input channels of all groups, >= 1; input rows have
                                  BNN_WORDS(channels_in) words */
    int32_t channels_out;    /**< C_out, >= 1, a multiple of groups */
    int32_t groups;          /**< >= 1; if > 1, channels_in / groups is a multiple of 32 */
    bnn_bpad_t pad_mode;     /**< BNN_BPAD_ONE for VALID or pad_values=1 */
    bnn_out_type_t out_type; /**< float, int8 or packed output */
    int32_t clamp_min;       /**< float/int8: lower clamp of x2, K - nmax (§6.5); with
                                  (nmin, nmax) = NONE (-K, K), RELU (0, K), RELU6 (0, min(6, K)),
                                  RELU_N1_TO_1 (-1, 1). NONE gives 0 */
    int32_t clamp_max;       /**< float/int8: upper clamp of x2, K - nmin; NONE gives 2 * K */
    const float *mul;        /**< float/int8: [C_out] output multiplier; NULL for packed */
    const float *bias;       /**< float/int8: [C_out] output bias; NULL for packed */
    const int32_t *threshold;/**< packed: [C_out] thresholds on acc; NULL otherwise */
} bnn_bconv2d_params_t;

/**
 * @brief Binary 2-D convolution on bit-packed NHWC tensors (LceBconv2d semantics).
 * @param[in]  p       Geometry, padding and output transform (see bnn_bconv2d_params_t).
 * @param[in]  in      Packed input  [N][in_h][in_w][BNN_WORDS(channels_in)] words.
 * @param[in]  filter  Packed filter [C_out][KH][KW][BNN_WORDS(channels_in / groups)] words.
 * @param[out] out     float or int8 [N][out_h][out_w][C_out], or packed words
 *                     [N][out_h][out_w][BNN_WORDS(C_out)] (padding bits 0).
 * @param[in]  scratch bnn_bconv2d_scratch_size(p) bytes (0 for _ref; may be NULL then).
 * @return BNN_OK, BNN_ERR_ARG, or BNN_ERR_UNSUPPORTED (BNN_BPAD_ZERO_FLOAT without float
 *         output or with a clamp narrower than [0, 2K], i.e. a fused activation).
 */
bnn_status_t bnn_bconv2d_ref(const bnn_bconv2d_params_t *p, const uint32_t *in,
                             const uint32_t *filter, void *out, void *scratch);
bnn_status_t bnn_bconv2d(const bnn_bconv2d_params_t *p, const uint32_t *in,
                         const uint32_t *filter, void *out, void *scratch);
/** Scratch bytes bnn_bconv2d() needs for p (the largest over the variants it may pick). */
size_t bnn_bconv2d_scratch_size(const bnn_bconv2d_params_t *p);

/* ===================================================================================== */
/* LceBMaxPool2d                                                                         */
/* ===================================================================================== */

/** LceBMaxPool2d parameters (spec §7). */
typedef struct {
    bnn_window_t win;   /**< kernel = pool size; dilation 1; SAME windows are clipped */
    int32_t channels;   /**< unpacked channels C, >= 1; rows have BNN_WORDS(C) words */
} bnn_bmaxpool2d_params_t;

/**
 * @brief Binary max-pool: each output word is the AND of the input words of the window
 *        clipped to the input (padding ignored). Bit 1 out iff every bit in the window is 1.
 * @param[in]  in  Packed [N][in_h][in_w][BNN_WORDS(C)] words.
 * @param[out] out Packed [N][out_h][out_w][BNN_WORDS(C)] words.
 */
bnn_status_t bnn_bmaxpool2d_ref(const bnn_bmaxpool2d_params_t *p, const uint32_t *in, uint32_t *out);
bnn_status_t bnn_bmaxpool2d(const bnn_bmaxpool2d_params_t *p, const uint32_t *in, uint32_t *out);

/* ===================================================================================== */
/* CONV_2D                                                                               */
/* ===================================================================================== */

/** Float CONV_2D (also the params of bnn_conv2d_binw_f32). */
typedef struct {
    bnn_window_t win;  /**< geometry; zero padding */
    int32_t in_c;      /**< input channels, >= 1 */
    int32_t out_c;     /**< output channels, >= 1, a multiple of groups */
    int32_t groups;    /**< >= 1; filter inner dim is in_c / groups */
    float act_min;     /**< fused activation lower bound (-FLT_MAX for none) */
    float act_max;     /**< fused activation upper bound (FLT_MAX for none) */
} bnn_conv2d_f32_params_t;

/**
 * @brief Float CONV_2D: out = clamp(sum_{fy,fx,ci} in * w + bias), summed in that order
 *        (fy outer, ci inner), bias added last.
 * @param[in]  in     [N][in_h][in_w][in_c].
 * @param[in]  filter [out_c][KH][KW][in_c / groups] (OHWI, as TFLite stores it).
 * @param[in]  bias   [out_c], or NULL for none.
 * @param[out] out    [N][out_h][out_w][out_c].
 */
bnn_status_t bnn_conv2d_f32_ref(const bnn_conv2d_f32_params_t *p, const float *in,
                                const float *filter, const float *bias, float *out);
bnn_status_t bnn_conv2d_f32(const bnn_conv2d_f32_params_t *p, const float *in,
                            const float *filter, const float *bias, float *out);

/**
 * @brief CONV_2D whose float weights are all +-scale[co] (a binary kernel applied to a real
 *        input, as Keras keeps it), with the weights stored bit-packed.
 *        acc = sum_{fy,fx,ci} (bit ? -in : +in) in the same order as bnn_conv2d_f32_ref;
 *        out = clamp(acc * scale[co] + bias[co]) (multiply, then add: two roundings).
 *        Equal bit for bit to bnn_conv2d_f32_ref on the +-scale weights when scale[co] is a
 *        power of two (Keras' +-1 weights); otherwise the difference is the rounding of the
 *        factored-out scale, |err| <= (K+1) * 2^-24 * sum |in * scale| (K = KH*KW*in_c/groups).
 * @param[in]  in     [N][in_h][in_w][in_c] floats.
 * @param[in]  filter Packed [out_c][KH][KW][BNN_WORDS(in_c / groups)] words, bit 1 = -scale.
 * @param[in]  scale  [out_c] magnitudes c (> 0 for a meaningful layer; any float accepted).
 * @param[in]  bias   [out_c], or NULL for none.
 * @param[out] out    [N][out_h][out_w][out_c].
 */
bnn_status_t bnn_conv2d_binw_f32_ref(const bnn_conv2d_f32_params_t *p, const float *in,
                                     const uint32_t *filter, const float *scale,
                                     const float *bias, float *out);
bnn_status_t bnn_conv2d_binw_f32(const bnn_conv2d_f32_params_t *p, const float *in,
                                 const uint32_t *filter, const float *scale,
                                 const float *bias, float *out);

/** int8 CONV_2D with per-output-channel requantization (TFLite integer semantics). */
typedef struct {
    bnn_window_t win;              /**< geometry; padding reads as the input zero point */
    int32_t in_c;                  /**< input channels, >= 1 */
    int32_t out_c;                 /**< output channels, >= 1, a multiple of groups */
    int32_t groups;                /**< >= 1; filter inner dim is in_c / groups */
    int32_t input_offset;          /**< -input zero point, [-127, 128] */
    int32_t output_offset;         /**< output zero point, [-128, 127] */
    const int32_t *out_multiplier; /**< [out_c] Q31 multipliers of in_scale*w_scale[co]/out_scale */
    const int32_t *out_shift;      /**< [out_c] exponents, [-31, 30] (left shift if > 0) */
    int32_t act_min;               /**< [-128, 127] */
    int32_t act_max;               /**< [act_min, 127] */
    bnn_rounding_t rounding;       /**< requantization ties: BNN_ROUND_UP matches the oracle */
} bnn_conv2d_s8_params_t;

/**
 * @brief int8 CONV_2D: acc = bias[co] + sum (in + input_offset) * w (outside taps add 0);
 *        out = clamp(MBQM(acc, m[co], s[co]) + output_offset), MBQM = bnn_mbqm or
 *        bnn_mbqm_upward per p->rounding.
 * @param[in]  in     [N][in_h][in_w][in_c] int8.
 * @param[in]  filter [out_c][KH][KW][in_c / groups] int8 (symmetric, zero point 0).
 * @param[in]  bias   [out_c] int32 (scale in_scale * w_scale[co]), or NULL.
 * @param[out] out    [N][out_h][out_w][out_c] int8.
 */
bnn_status_t bnn_conv2d_s8_ref(const bnn_conv2d_s8_params_t *p, const int8_t *in,
                               const int8_t *filter, const int32_t *bias, int8_t *out);
bnn_status_t bnn_conv2d_s8(const bnn_conv2d_s8_params_t *p, const int8_t *in,
                           const int8_t *filter, const int32_t *bias, int8_t *out);

/* ===================================================================================== */
/* DEPTHWISE_CONV_2D                                                                     */
/* ===================================================================================== */

/** Float DEPTHWISE_CONV_2D. Output channel oc = ic * depth_multiplier + m. */
typedef struct {
    bnn_window_t win;         /**< geometry; zero padding */
    int32_t in_c;             /**< input channels, >= 1 */
    int32_t depth_multiplier; /**< >= 1; out_c = in_c * depth_multiplier */
    float act_min;            /**< fused activation lower bound */
    float act_max;            /**< fused activation upper bound */
} bnn_depthwise_conv2d_f32_params_t;

/**
 * @param[in]  in     [N][in_h][in_w][in_c].
 * @param[in]  filter [1][KH][KW][out_c].
 * @param[in]  bias   [out_c] or NULL.
 * @param[out] out    [N][out_h][out_w][out_c].
 */
bnn_status_t bnn_depthwise_conv2d_f32_ref(const bnn_depthwise_conv2d_f32_params_t *p,
                                          const float *in, const float *filter,
                                          const float *bias, float *out);
bnn_status_t bnn_depthwise_conv2d_f32(const bnn_depthwise_conv2d_f32_params_t *p,
                                      const float *in, const float *filter,
                                      const float *bias, float *out);

/** int8 DEPTHWISE_CONV_2D (per-channel requantization, fields as bnn_conv2d_s8_params_t). */
typedef struct {
    bnn_window_t win;              /**< geometry; padding reads as the input zero point */
    int32_t in_c;                  /**< input channels, >= 1 */
    int32_t depth_multiplier;      /**< >= 1; out_c = in_c * depth_multiplier */
    int32_t input_offset;          /**< -input zero point */
    int32_t output_offset;         /**< output zero point */
    const int32_t *out_multiplier; /**< [out_c] Q31 multipliers */
    const int32_t *out_shift;      /**< [out_c] exponents */
    int32_t act_min;               /**< [-128, 127] */
    int32_t act_max;               /**< [act_min, 127] */
    bnn_rounding_t rounding;       /**< requantization ties: BNN_ROUND_UP matches the oracle */
} bnn_depthwise_conv2d_s8_params_t;

/** @param filter [1][KH][KW][out_c] int8; @param bias [out_c] int32 or NULL. */
bnn_status_t bnn_depthwise_conv2d_s8_ref(const bnn_depthwise_conv2d_s8_params_t *p,
                                         const int8_t *in, const int8_t *filter,
                                         const int32_t *bias, int8_t *out);
bnn_status_t bnn_depthwise_conv2d_s8(const bnn_depthwise_conv2d_s8_params_t *p,
                                     const int8_t *in, const int8_t *filter,
                                     const int32_t *bias, int8_t *out);

/* ===================================================================================== */
/* FULLY_CONNECTED                                                                       */
/* ===================================================================================== */

/** Float FULLY_CONNECTED (also the params of bnn_fully_connected_binw_f32). */
typedef struct {
    int32_t rows;         /**< input rows (batch), >= 1 */
    int32_t in_features;  /**< input row length, >= 1 */
    int32_t out_features; /**< output row length, >= 1 */
    float act_min;        /**< fused activation lower bound */
    float act_max;        /**< fused activation upper bound */
} bnn_fully_connected_f32_params_t;

/**
 * @brief out[r][o] = clamp(sum_i in[r][i] * w[o][i] + bias[o]), summed in index order.
 * @param[in] filter [out_features][in_features]; @param[in] bias [out_features] or NULL.
 */
bnn_status_t bnn_fully_connected_f32_ref(const bnn_fully_connected_f32_params_t *p,
                                         const float *in, const float *filter,
                                         const float *bias, float *out);
bnn_status_t bnn_fully_connected_f32(const bnn_fully_connected_f32_params_t *p,
                                     const float *in, const float *filter,
                                     const float *bias, float *out);

/**
 * @brief FULLY_CONNECTED with +-scale[o] weights stored bit-packed (see bnn_conv2d_binw_f32):
 *        acc = sum_i (bit ? -in : +in); out = clamp(acc * scale[o] + bias[o]).
 * @param[in] filter Packed [out_features][BNN_WORDS(in_features)] words, bit 1 = -scale.
 * @param[in] scale  [out_features]; @param[in] bias [out_features] or NULL.
 */
bnn_status_t bnn_fully_connected_binw_f32_ref(const bnn_fully_connected_f32_params_t *p,
                                              const float *in, const uint32_t *filter,
                                              const float *scale, const float *bias,
                                              float *out);
bnn_status_t bnn_fully_connected_binw_f32(const bnn_fully_connected_f32_params_t *p,
                                          const float *in, const uint32_t *filter,
                                          const float *scale, const float *bias, float *out);

/** int8 FULLY_CONNECTED. */
typedef struct {
    int32_t rows;                  /**< input rows (batch), >= 1 */
    int32_t in_features;           /**< >= 1 */
    int32_t out_features;          /**< >= 1 */
    int32_t input_offset;          /**< -input zero point */
    int32_t filter_offset;         /**< -filter zero point (0 for symmetric int8 weights) */
    int32_t output_offset;         /**< output zero point */
    int32_t per_channel;           /**< 0: out_multiplier[0]/out_shift[0] for every output;
                                        1: one per output feature */
    const int32_t *out_multiplier; /**< [1] or [out_features] Q31 multipliers */
    const int32_t *out_shift;      /**< [1] or [out_features] exponents */
    int32_t act_min;               /**< [-128, 127] */
    int32_t act_max;               /**< [act_min, 127] */
    bnn_rounding_t rounding;       /**< requantization ties: BNN_ROUND_UP matches the oracle */
} bnn_fully_connected_s8_params_t;

/** @param filter [out_features][in_features] int8; @param bias [out_features] int32 or NULL. */
bnn_status_t bnn_fully_connected_s8_ref(const bnn_fully_connected_s8_params_t *p,
                                        const int8_t *in, const int8_t *filter,
                                        const int32_t *bias, int8_t *out);
bnn_status_t bnn_fully_connected_s8(const bnn_fully_connected_s8_params_t *p,
                                    const int8_t *in, const int8_t *filter,
                                    const int32_t *bias, int8_t *out);

/* ===================================================================================== */
/* MAX_POOL_2D, AVERAGE_POOL_2D                                                          */
/* ===================================================================================== */

/** Float pools. Windows are clipped to the input (padding ignored). */
typedef struct {
    bnn_window_t win;  /**< kernel = pool size; dilation 1 */
    int32_t channels;  /**< >= 1 */
    float act_min;     /**< fused activation lower bound */
    float act_max;     /**< fused activation upper bound */
} bnn_pool2d_f32_params_t;

/** int8 pools (input and output share scale and zero point, as TFLite requires). */
typedef struct {
    bnn_window_t win;  /**< kernel = pool size; dilation 1 */
    int32_t channels;  /**< >= 1 */
    int32_t act_min;   /**< [-128, 127] */
    int32_t act_max;   /**< [act_min, 127] */
} bnn_pool2d_s8_params_t;

/** @brief MAX_POOL_2D: max over the clipped window, then clamp. [N][H][W][C] -> [N][OH][OW][C]. */
bnn_status_t bnn_max_pool2d_f32_ref(const bnn_pool2d_f32_params_t *p, const float *in, float *out);
bnn_status_t bnn_max_pool2d_f32(const bnn_pool2d_f32_params_t *p, const float *in, float *out);
bnn_status_t bnn_max_pool2d_s8_ref(const bnn_pool2d_s8_params_t *p, const int8_t *in, int8_t *out);
bnn_status_t bnn_max_pool2d_s8(const bnn_pool2d_s8_params_t *p, const int8_t *in, int8_t *out);

/** @brief AVERAGE_POOL_2D over the clipped window (count = in-input taps). float: sum / count;
 *         int8: int32 sum, divided rounding half away from zero, then clamp. */
bnn_status_t bnn_avg_pool2d_f32_ref(const bnn_pool2d_f32_params_t *p, const float *in, float *out);
bnn_status_t bnn_avg_pool2d_f32(const bnn_pool2d_f32_params_t *p, const float *in, float *out);
bnn_status_t bnn_avg_pool2d_s8_ref(const bnn_pool2d_s8_params_t *p, const int8_t *in, int8_t *out);
bnn_status_t bnn_avg_pool2d_s8(const bnn_pool2d_s8_params_t *p, const int8_t *in, int8_t *out);

/* ===================================================================================== */
/* MEAN over H and W                                                                     */
/* ===================================================================================== */

/** Spatial mean of [N][H][W][C] -> [N][C] (keep_dims only changes the shape, not memory). */
typedef struct {
    int32_t batch;    /**< N >= 1 */
    int32_t in_h;     /**< >= 1 */
    int32_t in_w;     /**< >= 1 */
    int32_t channels; /**< >= 1 */
} bnn_mean_f32_params_t;

/** @brief out[n][c] = (sum over h, w in row-major order) / (float)(H * W). */
bnn_status_t bnn_mean_f32_ref(const bnn_mean_f32_params_t *p, const float *in, float *out);
bnn_status_t bnn_mean_f32(const bnn_mean_f32_params_t *p, const float *in, float *out);

/** Which of TFLite's int8 MEAN paths the model takes (decided by the code generator). */
typedef enum {
    /** Input and output have equal scale and zero point, keep_dims=False (TFLite
     *  reference_ops::Mean): out = (int32 sum of q) / count rounded half away from zero. */
    BNN_MEAN_S8_SAME_QUANT = 0,
    /** Scales or zero points differ, keep_dims=False (TFLite QuantizedMeanOrSum):
     *  mean = (float)sum / (float)count; out = clamp(roundf(mean * scale + bias) + out_zp)
     *  with scale = (float)in_scale / (float)out_scale and bias = (float)(-in_zp) * scale. */
    BNN_MEAN_S8_RESCALE = 1
} bnn_mean_s8_mode_t;

/** int8 MEAN parameters. keep_dims=True with int8 is not supported yet. */
typedef struct {
    int32_t batch;              /**< N >= 1 */
    int32_t in_h;               /**< >= 1 */
    int32_t in_w;               /**< >= 1 */
    int32_t channels;           /**< >= 1 */
    bnn_mean_s8_mode_t mode;    /**< see bnn_mean_s8_mode_t */
    int32_t input_zero_point;   /**< [-128, 127] (RESCALE mode) */
    int32_t output_zero_point;  /**< [-128, 127] (RESCALE mode) */
    float scale;                /**< RESCALE: (float)in_scale / (float)out_scale */
} bnn_mean_s8_params_t;

bnn_status_t bnn_mean_s8_ref(const bnn_mean_s8_params_t *p, const int8_t *in, int8_t *out);
bnn_status_t bnn_mean_s8(const bnn_mean_s8_params_t *p, const int8_t *in, int8_t *out);

/* ===================================================================================== */
/* ADD, SUB, MUL (with broadcasting)                                                     */
/* ===================================================================================== */

/** Float elementwise binary ops. */
typedef struct {
    bnn_broadcast_t bc; /**< output shape and operand strides */
    float act_min;      /**< fused activation lower bound */
    float act_max;      /**< fused activation upper bound */
} bnn_binary_f32_params_t;

/** @brief out = clamp(a + b), clamp(a - b), clamp(a * b) elementwise with broadcasting. */
bnn_status_t bnn_add_f32_ref(const bnn_binary_f32_params_t *p, const float *a, const float *b, float *out);
bnn_status_t bnn_add_f32(const bnn_binary_f32_params_t *p, const float *a, const float *b, float *out);
bnn_status_t bnn_sub_f32_ref(const bnn_binary_f32_params_t *p, const float *a, const float *b, float *out);
bnn_status_t bnn_sub_f32(const bnn_binary_f32_params_t *p, const float *a, const float *b, float *out);
bnn_status_t bnn_mul_f32_ref(const bnn_binary_f32_params_t *p, const float *a, const float *b, float *out);
bnn_status_t bnn_mul_f32(const bnn_binary_f32_params_t *p, const float *a, const float *b, float *out);

/**
 * int8 ADD / SUB (TFLite): with left_shift = 20 (int8),
 *   a' = MBQM((a + in1_offset) << left_shift, in1_multiplier, in1_shift)
 *   b' = MBQM((b + in2_offset) << left_shift, in2_multiplier, in2_shift)
 *   out = clamp(MBQM(a' +- b', out_multiplier, out_shift) + output_offset)
 * where MBQM = MultiplyByQuantizedMultiplier and, with twice_max = 2 * max(s1, s2) (double),
 *   in1 real multiplier = s1 / twice_max, in2 = s2 / twice_max,
 *   out = twice_max / ((1 << left_shift) * s_out)   (all shifts <= 0).
 */
typedef struct {
    bnn_broadcast_t bc;     /**< output shape and operand strides */
    int32_t left_shift;     /**< 20 for int8 */
    int32_t in1_offset;     /**< -zero point of a */
    int32_t in1_multiplier; /**< Q31 */
    int32_t in1_shift;      /**< <= 0 */
    int32_t in2_offset;     /**< -zero point of b */
    int32_t in2_multiplier; /**< Q31 */
    int32_t in2_shift;      /**< <= 0 */
    int32_t out_multiplier; /**< Q31 */
    int32_t out_shift;      /**< <= 0 */
    int32_t output_offset;  /**< output zero point */
    int32_t act_min;        /**< [-128, 127] */
    int32_t act_max;        /**< [act_min, 127] */
} bnn_add_s8_params_t;

bnn_status_t bnn_add_s8_ref(const bnn_add_s8_params_t *p, const int8_t *a, const int8_t *b, int8_t *out);
bnn_status_t bnn_add_s8(const bnn_add_s8_params_t *p, const int8_t *a, const int8_t *b, int8_t *out);
bnn_status_t bnn_sub_s8_ref(const bnn_add_s8_params_t *p, const int8_t *a, const int8_t *b, int8_t *out);
bnn_status_t bnn_sub_s8(const bnn_add_s8_params_t *p, const int8_t *a, const int8_t *b, int8_t *out);

/** int8 MUL (TFLite): out = clamp(MBQM((a + in1_offset) * (b + in2_offset), m, s) + output_offset),
 *  real multiplier s1 * s2 / s_out. */
typedef struct {
    bnn_broadcast_t bc;     /**< output shape and operand strides */
    int32_t in1_offset;     /**< -zero point of a */
    int32_t in2_offset;     /**< -zero point of b */
    int32_t out_multiplier; /**< Q31 */
    int32_t out_shift;      /**< exponent */
    int32_t output_offset;  /**< output zero point */
    int32_t act_min;        /**< [-128, 127] */
    int32_t act_max;        /**< [act_min, 127] */
} bnn_mul_s8_params_t;

bnn_status_t bnn_mul_s8_ref(const bnn_mul_s8_params_t *p, const int8_t *a, const int8_t *b, int8_t *out);
bnn_status_t bnn_mul_s8(const bnn_mul_s8_params_t *p, const int8_t *a, const int8_t *b, int8_t *out);

/* ===================================================================================== */
/* RESHAPE, PAD, CONCATENATION                                                           */
/* ===================================================================================== */

/** @brief Byte copy (RESHAPE, or any op whose output is its input reinterpreted). Overlap is
 *  allowed (memmove semantics); identical pointers do nothing. */
bnn_status_t bnn_copy(void *dst, const void *src, size_t bytes);

/** PAD / PADV2 on up to 4 dims (lower ranks padded to 4-D with leading 1s, pads 0). */
typedef struct {
    int32_t in_shape[4];   /**< input dims, >= 1 */
    int32_t pad_before[4]; /**< >= 0 per dim */
    int32_t pad_after[4];  /**< >= 0 per dim; out dim = before + in + after */
} bnn_pad_params_t;

/** @brief Constant padding. float: pad_value (PAD: 0.0f; PADV2: the constant).
 *  int8: pad_value (PAD: the output zero point; PADV2: the quantized constant). */
bnn_status_t bnn_pad_f32_ref(const bnn_pad_params_t *p, float pad_value, const float *in, float *out);
bnn_status_t bnn_pad_f32(const bnn_pad_params_t *p, float pad_value, const float *in, float *out);
bnn_status_t bnn_pad_s8_ref(const bnn_pad_params_t *p, int8_t pad_value, const int8_t *in, int8_t *out);
bnn_status_t bnn_pad_s8(const bnn_pad_params_t *p, int8_t pad_value, const int8_t *in, int8_t *out);

/** CONCATENATION along any axis, any dtype (raw bytes; int8 inputs must share the output's
 *  quantization, as TFLite's converter guarantees). */
typedef struct {
    int32_t n_inputs;              /**< >= 1 */
    int32_t outer;                 /**< product of the dims before the axis, >= 1 */
    const int32_t *inner_bytes;    /**< [n_inputs]: bytes of input i per outer index
                                        = dim_i(axis) * product(dims after axis) * elem size */
} bnn_concatenation_params_t;

/** @brief out[o] = in_0[o] | in_1[o] | ... (each a contiguous block of inner_bytes[i]). */
bnn_status_t bnn_concatenation_ref(const bnn_concatenation_params_t *p,
                                   const void *const *inputs, void *out);
bnn_status_t bnn_concatenation(const bnn_concatenation_params_t *p,
                               const void *const *inputs, void *out);

/* ===================================================================================== */
/* SOFTMAX                                                                               */
/* ===================================================================================== */

/** Float SOFTMAX over the last axis. */
typedef struct {
    int32_t rows;  /**< >= 1 */
    int32_t depth; /**< last dim, >= 1 */
    float beta;    /**< > 0 (1.0 from Keras) */
} bnn_softmax_f32_params_t;

/** @brief out = exp((x - max) * beta) / sum, per row. */
bnn_status_t bnn_softmax_f32_ref(const bnn_softmax_f32_params_t *p, const float *in, float *out);
bnn_status_t bnn_softmax_f32(const bnn_softmax_f32_params_t *p, const float *in, float *out);

/**
 * int8 SOFTMAX as TFLite's default (optimized) kernel computes it, with a float table:
 *   table[255 - v] = expf(-in_scale * beta * v), v = 0..255 (bnn_softmax_s8_fill_table);
 *   per row: mx = max q; t = table + 255 - mx; sum = sum_j t[q_j] (float, in order);
 *   inv = 1.0f / (sum * out_scale); out_j = clamp(roundf(t[q_j] * inv) + out_zp).
 */
typedef struct {
    int32_t rows;              /**< >= 1 */
    int32_t depth;             /**< >= 1 */
    float out_scale;           /**< output scale (1/256 from the converter) */
    int32_t output_zero_point; /**< output zero point (-128 from the converter) */
    const float *table;        /**< [256] exp table, see above */
} bnn_softmax_s8_params_t;

/** @brief Fills table[256] for bnn_softmax_s8 with expf (call once, e.g. at model init, or
 *  let the code generator emit the table as constants). */
void bnn_softmax_s8_fill_table(float *table, float in_scale, float beta);
bnn_status_t bnn_softmax_s8_ref(const bnn_softmax_s8_params_t *p, const int8_t *in, int8_t *out);
bnn_status_t bnn_softmax_s8(const bnn_softmax_s8_params_t *p, const int8_t *in, int8_t *out);

/* ===================================================================================== */
/* QUANTIZE, DEQUANTIZE and int8 element-wise ops                                        */
/* ===================================================================================== */

/** Element-wise float -> int8 / int8 -> float conversion. */
typedef struct {
    int32_t count;      /**< number of elements, >= 1 */
    float scale;        /**< > 0 */
    int32_t zero_point; /**< [-128, 127] */
} bnn_affine_params_t;

/** @brief QUANTIZE float -> int8: q = clamp(round_half_away((double)x / (double)scale) + zp). */
bnn_status_t bnn_affine_quantize_s8_ref(const bnn_affine_params_t *p, const float *in, int8_t *out);
bnn_status_t bnn_affine_quantize_s8(const bnn_affine_params_t *p, const float *in, int8_t *out);

/** @brief DEQUANTIZE int8 -> float: x = (float)((double)scale * (q - zp)). */
bnn_status_t bnn_affine_dequantize_s8_ref(const bnn_affine_params_t *p, const int8_t *in, float *out);
bnn_status_t bnn_affine_dequantize_s8(const bnn_affine_params_t *p, const int8_t *in, float *out);

/** int8 -> int8 requantization with clamp: QUANTIZE (int8 -> int8), RELU, RELU6, RELU_N1_TO_1. */
typedef struct {
    int32_t count;             /**< number of elements, >= 1 */
    int32_t input_zero_point;  /**< [-128, 127] */
    int32_t output_zero_point; /**< [-128, 127] */
    int32_t multiplier;        /**< Q31 multiplier of in_scale / out_scale */
    int32_t shift;             /**< exponent */
    int32_t act_min;           /**< [-128, 127]: -128 (QUANTIZE), quantized 0 (RELU), ... */
    int32_t act_max;           /**< [act_min, 127] */
} bnn_requantize_s8_params_t;

/** @brief out = clamp(MBQM(q - in_zp, multiplier, shift) + out_zp, act_min, act_max). */
bnn_status_t bnn_requantize_s8_ref(const bnn_requantize_s8_params_t *p, const int8_t *in, int8_t *out);
bnn_status_t bnn_requantize_s8(const bnn_requantize_s8_params_t *p, const int8_t *in, int8_t *out);

/** Element-wise float clamp (RELU, RELU6, RELU_N1_TO_1) and float LOGISTIC / TANH. */
typedef struct {
    int32_t count;  /**< number of elements, >= 1 */
    float act_min;  /**< lower bound (RELU: 0) */
    float act_max;  /**< upper bound (RELU: FLT_MAX, RELU6: 6) */
} bnn_clamp_f32_params_t;

/** @brief out = min(max(x, act_min), act_max). */
bnn_status_t bnn_clamp_f32_ref(const bnn_clamp_f32_params_t *p, const float *in, float *out);
bnn_status_t bnn_clamp_f32(const bnn_clamp_f32_params_t *p, const float *in, float *out);
/** @brief out = 1 / (1 + expf(-x)); act bounds unused. */
bnn_status_t bnn_logistic_f32_ref(const bnn_clamp_f32_params_t *p, const float *in, float *out);
bnn_status_t bnn_logistic_f32(const bnn_clamp_f32_params_t *p, const float *in, float *out);
/** @brief out = tanhf(x); act bounds unused. */
bnn_status_t bnn_tanh_f32_ref(const bnn_clamp_f32_params_t *p, const float *in, float *out);
bnn_status_t bnn_tanh_f32(const bnn_clamp_f32_params_t *p, const float *in, float *out);

/** int8 table lookup (LOGISTIC, TANH, any int8 -> int8 function): out = table[q + 128]. */
typedef struct {
    int32_t count;       /**< number of elements, >= 1 */
    const int8_t *table; /**< [256], entry q + 128; generated like TFLite's LUT:
                              clamp(round(f(in_scale * (q - in_zp)) / out_scale) + out_zp) */
} bnn_lut_s8_params_t;

bnn_status_t bnn_lut_s8_ref(const bnn_lut_s8_params_t *p, const int8_t *in, int8_t *out);
bnn_status_t bnn_lut_s8(const bnn_lut_s8_params_t *p, const int8_t *in, int8_t *out);

/** Float LEAKY_RELU. */
typedef struct {
    int32_t count; /**< number of elements, >= 1 */
    float alpha;   /**< slope for x < 0 */
} bnn_leaky_relu_f32_params_t;

/** @brief out = x > 0 ? x : alpha * x. */
bnn_status_t bnn_leaky_relu_f32_ref(const bnn_leaky_relu_f32_params_t *p, const float *in, float *out);
bnn_status_t bnn_leaky_relu_f32(const bnn_leaky_relu_f32_params_t *p, const float *in, float *out);

/** int8 LEAKY_RELU (TFLite): v = q - in_zp; out = clamp(out_zp + MBQM(v, v >= 0 ? identity : alpha)). */
typedef struct {
    int32_t count;               /**< number of elements, >= 1 */
    int32_t input_zero_point;    /**< [-128, 127] */
    int32_t output_zero_point;   /**< [-128, 127] */
    int32_t identity_multiplier; /**< Q31 of in_scale / out_scale */
    int32_t identity_shift;      /**< exponent */
    int32_t alpha_multiplier;    /**< Q31 of alpha * in_scale / out_scale */
    int32_t alpha_shift;         /**< exponent */
} bnn_leaky_relu_s8_params_t;

bnn_status_t bnn_leaky_relu_s8_ref(const bnn_leaky_relu_s8_params_t *p, const int8_t *in, int8_t *out);
bnn_status_t bnn_leaky_relu_s8(const bnn_leaky_relu_s8_params_t *p, const int8_t *in, int8_t *out);

/** @brief Float PRELU: out = x >= 0 ? x : x * alpha (alpha broadcast as operand 2 of p->bc;
 *  act bounds of p unused). */
bnn_status_t bnn_prelu_f32_ref(const bnn_binary_f32_params_t *p, const float *in,
                               const float *alpha, float *out);
bnn_status_t bnn_prelu_f32(const bnn_binary_f32_params_t *p, const float *in,
                           const float *alpha, float *out);

/** int8 PRELU (TFLite): v = q + input_offset;
 *  out = clamp(out_offset + (v >= 0 ? MBQM(v, m1, s1) : MBQM(v * (alpha + alpha_offset), m2, s2)))
 *  with m1 = in_scale / out_scale and m2 = in_scale * alpha_scale / out_scale. */
typedef struct {
    bnn_broadcast_t bc;     /**< operand 1 = input, operand 2 = alpha */
    int32_t input_offset;   /**< -input zero point */
    int32_t alpha_offset;   /**< -alpha zero point */
    int32_t output_offset;  /**< output zero point */
    int32_t multiplier_1;   /**< Q31, positive branch */
    int32_t shift_1;        /**< exponent */
    int32_t multiplier_2;   /**< Q31, negative branch */
    int32_t shift_2;        /**< exponent */
} bnn_prelu_s8_params_t;

bnn_status_t bnn_prelu_s8_ref(const bnn_prelu_s8_params_t *p, const int8_t *in,
                              const int8_t *alpha, int8_t *out);
bnn_status_t bnn_prelu_s8(const bnn_prelu_s8_params_t *p, const int8_t *in,
                          const int8_t *alpha, int8_t *out);

/* ===================================================================================== */
/* Fixed-point helpers (TFLite semantics), public so tests and generated code share them */
/* ===================================================================================== */

/** (a * b * 2 + 2^31) >> 32 with saturation of INT32_MIN * INT32_MIN (gemmlowp). */
int32_t bnn_srdhm(int32_t a, int32_t b);
/** x / 2^exponent rounded half away from zero (gemmlowp RoundingDivideByPOT), exponent 0..31. */
int32_t bnn_rdbpot(int32_t x, int32_t exponent);
/** TFLite MultiplyByQuantizedMultiplier(x, multiplier, shift). */
int32_t bnn_mbqm(int32_t x, int32_t multiplier, int32_t shift);
/**
 * MultiplyByQuantizedMultiplier with the final right shift rounding ties UP instead of away
 * from zero: y = bnn_srdhm(x * 2^max(shift,0), multiplier); n = max(-shift, 0);
 * result = (y + (n > 0 ? 2^(n-1) : 0)) >> n. This is TFLite's optimized depthwise kernel
 * (DepthwiseConvOutputRounding::kUpward); it differs from bnn_mbqm by 1 on negative ties.
 */
int32_t bnn_mbqm_upward(int32_t x, int32_t multiplier, int32_t shift);

/* ===================================================================================== */
/* Optimized variants (kernels/opt/): same signatures and params as the references.      */
/* Each is bit-exact with its _ref on every p its _supports(p) accepts; the dispatcher    */
/* bnn_<op>() is the one place that chooses. Build with -DBNN_KERNELS=BNN_KERNELS_REF to   */
/* link only the references into the dispatch (the _opt functions still compile).        */
/* ===================================================================================== */

/** Kernel selection for the dispatchers (STYLE §6). */
#define BNN_KERNELS_REF 0 /**< dispatchers call the reference kernels only */
#define BNN_KERNELS_OPT 1 /**< dispatchers call an optimized variant when it supports p */
#ifndef BNN_KERNELS
#define BNN_KERNELS BNN_KERNELS_OPT
#endif

/**
 * @brief Optimized LceBconv2d: direct convolution on packed words (no im2col), output
 *        channels in blocks that share each loaded input word, SWAR / carry-save popcount
 *        (byte table on Cortex-M0 when it measures faster), output transform fused.
 *        Same arguments and results as bnn_bconv2d_ref; needs no scratch.
 */
bnn_status_t bnn_bconv2d_opt(const bnn_bconv2d_params_t *p, const uint32_t *in,
                             const uint32_t *filter, void *out, void *scratch);
/** 1 if bnn_bconv2d_opt handles p: pad_mode BNN_BPAD_ONE or BNN_BPAD_ZERO_INT (not
 *  BNN_BPAD_ZERO_FLOAT), any output type, stride, dilation, groups and shape. */
int bnn_bconv2d_opt_supports(const bnn_bconv2d_params_t *p);

/** @brief Optimized LceBMaxPool2d: clipped window ranges computed once per output pixel
 *         (no per-tap bounds checks), a 2x2 fast path. Same results as bnn_bmaxpool2d_ref. */
bnn_status_t bnn_bmaxpool2d_opt(const bnn_bmaxpool2d_params_t *p, const uint32_t *in, uint32_t *out);
/** 1 if bnn_bmaxpool2d_opt handles p (every valid p). */
int bnn_bmaxpool2d_opt_supports(const bnn_bmaxpool2d_params_t *p);

/** @brief Optimized LceQuantize of float: 32 channels per word, branch-free sign test on the
 *         bit pattern (bit = 0x80800000 <= u <= 0xFF800000). Same results as _ref. */
bnn_status_t bnn_quantize_f32_opt(const bnn_quantize_params_t *p, const float *in, uint32_t *out);
/** 1 if bnn_quantize_f32_opt handles p (every valid p). */
int bnn_quantize_f32_opt_supports(const bnn_quantize_params_t *p);

/** @brief Optimized LceQuantize of int8: 32 channels per word, branch-free (q < zero_point).
 *         Same results as bnn_quantize_s8_ref. */
bnn_status_t bnn_quantize_s8_opt(const bnn_quantize_params_t *p, const int8_t *in, uint32_t *out);
/** 1 if bnn_quantize_s8_opt handles p (every valid p). */
int bnn_quantize_s8_opt_supports(const bnn_quantize_params_t *p);

#ifdef __cplusplus
}
#endif

#endif /* BNN_KERNELS_H */
