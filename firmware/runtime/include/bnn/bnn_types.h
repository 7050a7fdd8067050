/**
 * @file bnn_types.h
 * @brief Status codes, error checks and the tensor conventions of the bnn-lq C runtime.
 *
 * Tensor conventions (written down once; the NumPy interpreter uses the same words):
 *
 *  - Layout is NHWC, row-major (C order), as in TFLite. "rows" means the product of all
 *    dimensions but the last one.
 *  - Bit-packed tensors pack the LAST axis only: channel c goes to 32-bit word c / 32,
 *    bit c % 32, lowest channel in the least significant bit. A row of C channels takes
 *    n_words = ceil(C / 32) words (BNN_WORDS(C)). Words are stored as int32_t in the
 *    flatbuffer and handled as uint32_t here.
 *  - Bit 1 means -1, bit 0 means +1 (so sign(0) = +1).
 *  - Padding bits (the unused high bits of the last word of a row) are 0, and every kernel
 *    that writes packed data keeps them 0.
 *  - Binary dot product of K real bits: dot = K - 2 * popcount(a ^ b), where K counts real
 *    bits only (LCE's convention, so LCE's constants are reused unchanged).
 *  - int8 tensors are per-tensor affine: real = scale * (q - zero_point); int8 filters of
 *    CONV_2D / DEPTHWISE_CONV_2D are per-output-channel symmetric (zero point 0).
 *  - Quantized multipliers follow TFLite: a real factor r = m * 2^shift with m a Q31
 *    int32 in [2^30, 2^31) (or 0) and shift in [-31, 30], applied as
 *    RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x * 2^max(shift,0), m), max(-shift,0)).
 *  - "float" is IEEE-754 binary32, every operation rounded on its own: build with
 *    -ffp-contract=off (no fused multiply-add).
 *
 * Errors: kernels check their parameters on entry with BNN_ENSURE, which logs
 * "<op>: <field>=<value> (<condition>)" through bnn_port_write() and returns a status.
 * Define BNN_STRIP_ERROR_STRINGS to keep the checks but drop the text (saves flash).
 * Per-element invariants use BNN_DCHECK, compiled out with NDEBUG.
 */
#ifndef BNN_TYPES_H
#define BNN_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Status of every runtime call. */
typedef enum {
    BNN_OK = 0,          /**< success */
    BNN_ERR_ARG,         /**< a parameter is out of range or inconsistent */
    BNN_ERR_UNSUPPORTED, /**< legal, but this kernel variant does not implement it */
    BNN_ERR_ARENA,       /**< the arena or scratch buffer is too small */
    BNN_ERR_MODEL,       /**< the generated model data is malformed */
    BNN_STATUS_COUNT     /**< number of statuses (not a status) */
} bnn_status_t;

/** Human-readable name of a status ("ok", "bad argument", ...); "?" when out of range. */
const char *bnn_status_name(bnn_status_t status);

/** Number of 32-bit words that hold c bits: ceil(c / 32). */
#define BNN_WORDS(c) (((c) + 31) / 32)

/**
 * Rounding of the final right shift of a quantized multiplier (bnn_mbqm vs bnn_mbqm_upward).
 * TFLite's reference kernels (and tflite-micro) round ties away from zero; TFLite's
 * optimized CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED int8 kernels, which LCE's x86
 * interpreter (the oracle) runs, round ties up. Measured: 7 of 2048 CONV_2D outputs and
 * 4 of 800 DEPTHWISE_CONV_2D outputs differ by 1 between the two.
 */
typedef enum {
    BNN_ROUND_AWAY = 0, /**< bnn_mbqm: TFLite reference semantics */
    BNN_ROUND_UP = 1    /**< bnn_mbqm_upward: TFLite optimized kernels, the LCE oracle */
} bnn_rounding_t;

/** Output kinds of LceBconv2d (chosen by the output tensor's dtype). */
typedef enum {
    BNN_OUT_F32 = 0,    /**< float32 values [.., C_out] */
    BNN_OUT_S8 = 1,     /**< int8 values [.., C_out] (per-tensor affine) */
    BNN_OUT_PACKED = 2  /**< bit-packed words [.., ceil(C_out / 32)] */
} bnn_out_type_t;

/**
 * Sliding-window geometry shared by convolutions and pools (TFLite rules, spec §6.2).
 * The code generator computes out_h/out_w and the pad offsets; kernels only check them.
 *   in-window tap (fy, fx) of output (oy, ox) reads
 *   iy = oy * stride_h - pad_top + fy * dilation_h,  ix = ox * stride_w - pad_left + fx * dilation_w,
 *   and is inside iff 0 <= iy < in_h and 0 <= ix < in_w.
 */
typedef struct {
    int32_t batch;      /**< N, >= 1 (the converter emits 1) */
    int32_t in_h;       /**< input height, >= 1 */
    int32_t in_w;       /**< input width, >= 1 */
    int32_t out_h;      /**< output height, >= 1 (SAME: ceil(in_h/stride_h); VALID: (in_h-EKH)/stride_h+1) */
    int32_t out_w;      /**< output width, >= 1 */
    int32_t kernel_h;   /**< filter / pool height KH, >= 1 */
    int32_t kernel_w;   /**< filter / pool width KW, >= 1 */
    int32_t stride_h;   /**< >= 1 */
    int32_t stride_w;   /**< >= 1 */
    int32_t dilation_h; /**< >= 1 (pools: 1); effective height EKH = (KH-1)*dilation_h+1 */
    int32_t dilation_w; /**< >= 1 (pools: 1) */
    int32_t pad_top;    /**< >= 0: max(0, (out_h-1)*stride_h + EKH - in_h) / 2 for SAME, 0 for VALID */
    int32_t pad_left;   /**< >= 0: same rule along the width */
} bnn_window_t;

/**
 * Broadcast of two operands onto a 4-D output (ADD, SUB, MUL, PRELU).
 * Shapes of lower rank are right-aligned and padded with 1 to 4-D by the code generator.
 * Element (i0,i1,i2,i3) of the output reads in1[sum_k ik * in1_stride[k]] and likewise for
 * in2; a broadcast dimension has stride 0. Strides count elements, not bytes.
 * Example: [1,4,4,8] + per-channel [8]: out_shape {1,4,4,8}, in1_stride {128,32,8,1},
 * in2_stride {0,0,0,1}. Scalar: in2_stride {0,0,0,0}.
 */
typedef struct {
    int32_t out_shape[4];  /**< output dims, each >= 1 */
    int32_t in1_stride[4]; /**< element strides of operand 1 (0 = broadcast) */
    int32_t in2_stride[4]; /**< element strides of operand 2 (0 = broadcast) */
} bnn_broadcast_t;

/** Writes a message through the port (bnn_port_write) unless error strings are stripped.
 *  Used by BNN_ENSURE; public so generated code can report an op index the same way. */
void bnn_log_check(const char *op, const char *field, long value, const char *cond);

#ifdef BNN_STRIP_ERROR_STRINGS
#define BNN_LOG_CHECK_(op, field, value, cond) ((void)(op), (void)(field), (void)(value))
#else
#define BNN_LOG_CHECK_(op, field, value, cond) bnn_log_check((op), (field), (long)(value), (cond))
#endif

/**
 * Parameter check at kernel entry: when cond is false, logs "op: field=value (cond)" and
 * returns status from the enclosing function. Example:
 *   BNN_ENSURE(p->channels_in > 0, "bconv2d", "channels_in", p->channels_in, BNN_ERR_ARG);
 */
#define BNN_ENSURE(cond, op, field, value, status)           \
    do {                                                     \
        if (!(cond)) {                                       \
            BNN_LOG_CHECK_((op), (field), (value), #cond);   \
            return (status);                                 \
        }                                                    \
    } while (0)

/** Per-element invariant, compiled out with NDEBUG (never a parameter check). */
#ifdef NDEBUG
#define BNN_DCHECK(cond) ((void)0)
#else
#define BNN_DCHECK(cond)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            BNN_LOG_CHECK_("dcheck", __FILE__, __LINE__, #cond);          \
        }                                                                 \
    } while (0)
#endif

#ifdef __cplusplus
}
#endif

#endif /* BNN_TYPES_H */
