/**
 * @file bnn_fused.h
 * @brief Fused kernels: a chain of ops that ends in LceQuantize, computed element by element
 *        so that the real-valued feature maps in between never exist in memory.
 *
 * The chain the code generator fuses (every stage but the quantize is optional):
 *
 *     source -> elementwise stages -> MAX_POOL_2D -> [RESHAPE] -> LceQuantize -> LceBMaxPool2d
 *
 * where the source is a tensor read as is, a float CONV_2D (float or +-c bit-packed weights),
 * an int8 CONV_2D, or an LceBconv2d with float or int8 output. For every bit of the packed
 * output, bnn_conv2d_pool_quantize_ref() evaluates each source element the window needs with
 * the SAME float / integer operations in the SAME order as the unfused reference kernels
 * (bnn_conv2d_f32_ref, bnn_conv2d_binw_f32_ref, bnn_conv2d_s8_ref, bnn_bconv2d_ref,
 * bnn_mul_f32_ref / bnn_add_f32_ref / bnn_sub_f32_ref / bnn_clamp_f32_ref,
 * bnn_max_pool2d_f32_ref / _s8_ref, bnn_quantize_f32_ref / _s8_ref, bnn_bmaxpool2d_ref), so
 * the packed words are bit-identical to the unfused chain's. It needs no scratch: the arena
 * holds only the chain's input and its packed output (28x28x32 floats, 100 KB, become
 * 14x14 words, 784 B, for a conv -> quantize -> 2x2 binary max-pool stem).
 *
 * Source elements are recomputed once per pooling window that contains them (never for
 * the usual non-overlapping 2x2 / stride 2 pool); memory, not time, is what this trades.
 *
 * int8 values travel as floats inside the kernel: every int8 value, int8 max and int8
 * clamp bound is exactly representable, so max, clamp and the comparison q < zero_point
 * give the same answers as in integers.
 */
#ifndef BNN_FUSED_H
#define BNN_FUSED_H

#include "bnn/bnn_kernels.h"
#include "bnn/bnn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What produces the real-valued map of a fused chain. */
typedef enum {
    BNN_FUSED_SRC_F32 = 0,       /**< a float tensor [N][H][W][C], read as is */
    BNN_FUSED_SRC_S8 = 1,        /**< an int8 tensor [N][H][W][C], read as is */
    BNN_FUSED_CONV_F32 = 2,      /**< CONV_2D on float input, float OHWI weights (conv_f32) */
    BNN_FUSED_CONV_BINW_F32 = 3, /**< CONV_2D on float input, +-scale packed weights (conv_f32) */
    BNN_FUSED_CONV_S8 = 4,       /**< int8 CONV_2D (conv_s8) */
    BNN_FUSED_BCONV = 5          /**< LceBconv2d, out_type BNN_OUT_F32 or BNN_OUT_S8 (bconv) */
} bnn_fused_src_t;

/** An elementwise float op applied to the source map, per element. */
typedef enum {
    BNN_FUSED_MUL = 0,   /**< y = clamp(x * c)        (MUL; IEEE multiplication commutes) */
    BNN_FUSED_ADD = 1,   /**< y = clamp(x + c)        (ADD; IEEE addition commutes) */
    BNN_FUSED_SUB_XC = 2,/**< y = clamp(x - c)        (SUB with the map as operand 1) */
    BNN_FUSED_SUB_CX = 3,/**< y = clamp(c - x)        (SUB with the map as operand 2) */
    BNN_FUSED_CLAMP = 4  /**< y = clamp(x)            (RELU, RELU6, RELU_N1_TO_1; c unused) */
} bnn_fused_op_t;

/** Most elementwise stages one fused chain holds. */
#define BNN_FUSED_MAX_STAGES 4

/** One elementwise stage: y = clamp(op(x, c)), clamp = min(max(., act_min), act_max). */
typedef struct {
    bnn_fused_op_t op; /**< the operation */
    const float *c;    /**< the constant: [C] per channel, or [1] for a scalar; NULL for CLAMP */
    int32_t per_channel; /**< 1: c[channel]; 0: c[0] */
    float act_min;     /**< fused activation lower bound (-FLT_MAX for none) */
    float act_max;     /**< fused activation upper bound (FLT_MAX for none) */
} bnn_fused_stage_t;

/**
 * Parameters of bnn_conv2d_pool_quantize(). Shapes, all NHWC:
 *   source map  [batch][map_h][map_w][channels]
 *   after pool  [batch][pool.out_h][pool.out_w][channels]   (the map itself if !has_pool)
 *   after bpool [batch][bpool.out_h][bpool.out_w][channels] (likewise if !has_bpool)
 * That final map, flattened in NHWC order, is packed in rows of pack_channels values:
 * element e goes to row e / pack_channels, bit e % pack_channels (a RESHAPE between the
 * pool and LceQuantize only changes pack_channels; without one it equals channels).
 */
typedef struct {
    bnn_fused_src_t src;                      /**< the producer of the map */
    const bnn_conv2d_f32_params_t *conv_f32;  /**< CONV_F32 / CONV_BINW_F32; else NULL */
    const bnn_conv2d_s8_params_t *conv_s8;    /**< CONV_S8; else NULL */
    const bnn_bconv2d_params_t *bconv;        /**< BCONV (out_type F32 or S8); else NULL */
    const void *filter;     /**< CONV_F32: float OHWI; CONV_BINW_F32: packed words (bit 1 =
                                 -scale); CONV_S8: int8 OHWI; BCONV: packed words; SRC_*: NULL */
    const float *scale;     /**< CONV_BINW_F32: [C] magnitudes; else NULL */
    const void *bias;       /**< CONV_F32 / CONV_BINW_F32: float [C]; CONV_S8: int32 [C]; or NULL */
    int32_t batch;          /**< N, >= 1 */
    int32_t map_h;          /**< source map height (the conv's out_h), >= 1 */
    int32_t map_w;          /**< source map width, >= 1 */
    int32_t channels;       /**< source map channels C (the conv's out_c), >= 1 */
    int32_t n_stages;       /**< elementwise stages, 0..BNN_FUSED_MAX_STAGES; float map only */
    bnn_fused_stage_t stages[BNN_FUSED_MAX_STAGES]; /**< applied in order */
    int32_t has_pool;       /**< 1: MAX_POOL_2D on the (float or int8) map */
    bnn_window_t pool;      /**< pool geometry (in_h/in_w = map_h/map_w; dilation 1) */
    float pool_act_min;     /**< pool's fused activation bounds, as floats (int8 map: the int8
                                 bounds, exact); none = -FLT_MAX / FLT_MAX, or -128 / 127 */
    float pool_act_max;     /**< upper bound, >= pool_act_min */
    int32_t quant_s8;       /**< 0: float map, bit = x <= -FLT_MIN (bnn_quantize_f32_ref);
                                 1: int8 map, bit = q < zero_point (bnn_quantize_s8_ref) */
    int32_t zero_point;     /**< quant_s8: the int8 map's zero point, [-128, 127] */
    int32_t has_bpool;      /**< 1: LceBMaxPool2d (AND over the clipped window) after packing */
    bnn_window_t bpool;     /**< binary pool geometry (in = the pooled map; dilation 1) */
    int32_t pack_channels;  /**< values per packed row, >= 1; (N*OH*OW*C) % pack_channels == 0 */
} bnn_fused_params_t;

/**
 * @brief source -> stages -> max-pool -> LceQuantize -> binary max-pool, one packed word at
 *        a time, bit-identical to the unfused chain of reference kernels (see the file).
 * @param[in]  p   The chain (see bnn_fused_params_t).
 * @param[in]  in  The source's input: float / int8 map (SRC_*), float image (CONV_F32,
 *                 CONV_BINW_F32), int8 image (CONV_S8), packed words (BCONV).
 * @param[out] out Packed [rows][BNN_WORDS(pack_channels)] words, padding bits 0,
 *                 rows = N * OH * OW * C / pack_channels of the final map.
 * @return BNN_OK, BNN_ERR_ARG for inconsistent parameters, BNN_ERR_UNSUPPORTED for a
 *         BCONV with packed output (or what bnn_bconv2d_ref refuses: BNN_BPAD_ZERO_FLOAT
 *         with int8 output or a fused activation).
 */
bnn_status_t bnn_conv2d_pool_quantize_ref(const bnn_fused_params_t *p, const void *in,
                                          uint32_t *out);
bnn_status_t bnn_conv2d_pool_quantize(const bnn_fused_params_t *p, const void *in,
                                      uint32_t *out);

#ifdef __cplusplus
}
#endif

#endif /* BNN_FUSED_H */
