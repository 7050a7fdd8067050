/**
 * @file bnn_internal.h
 * @brief Helpers shared by the kernels of this runtime (not part of the public API).
 *
 * Everything here is static inline so each kernel file stays self-contained and an
 * optimized variant can reuse exactly the same output transform as the reference.
 */
#ifndef BNN_INTERNAL_H
#define BNN_INTERNAL_H

#include "bnn/bnn_fused.h"
#include "bnn/bnn_kernels.h"

/** popcount of a 32-bit word (portable; the compiler recognizes the idiom where it can). */
static inline int32_t bnn_popcount32(uint32_t x)
{
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0Fu;
    return (int32_t)((x * 0x01010101u) >> 24);
}

static inline int32_t bnn_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t bnn_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t bnn_clamp_i32(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/** float clamp written with comparisons only (fminf/fmaxf differ on NaN and -0). */
static inline float bnn_clamp_f(float x, float lo, float hi)
{
    float y = x < lo ? lo : x;
    return y > hi ? hi : y;
}

/** Round half away from zero to int32, then saturate to int8 (|y| < 2^31 assumed, §9.7). */
static inline int8_t bnn_round_sat_s8(float y)
{
    /* Half away from zero without libm: truncate y +- 0.5 computed in double, where the
     * addition is exact for |y| < 2^31 (float has 24 significant bits, double 53). */
    const double d = (double)y;
    const int32_t r = (int32_t)(d >= 0.0 ? d + 0.5 : d - 0.5);
    return (int8_t)bnn_clamp_i32(r, -128, 127);
}

/** Quantized-multiplier requantization with the chosen tie rounding. */
static inline int32_t bnn_requant(int32_t acc, int32_t multiplier, int32_t shift,
                                  bnn_rounding_t rounding)
{
    return rounding == BNN_ROUND_UP ? bnn_mbqm_upward(acc, multiplier, shift)
                                    : bnn_mbqm(acc, multiplier, shift);
}

/** An int8 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED output from its int32 sum: + bias
 *  (none when bias is NULL), requantize, + output offset, clamp to [act_min, act_max]. The
 *  reference and optimized kernels share it, so they differ only in how they sum. Always
 *  inlined: a call per output would cost the int8 kernels ~10% (measured on the M4). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int8_t bnn_s8_output(int32_t acc, const int32_t *bias, int32_t o,
                                   int32_t multiplier, int32_t shift, bnn_rounding_t rounding,
                                   int32_t output_offset, int32_t act_min, int32_t act_max)
{
    if (bias != NULL) {
        acc += bias[o];
    }
    acc = bnn_requant(acc, multiplier, shift, rounding);
    acc += output_offset;
    return (int8_t)bnn_clamp_i32(acc, act_min, act_max);
}

/** Checks a window's fields; returns BNN_OK or BNN_ERR_ARG after logging the field. */
bnn_status_t bnn_check_window(const bnn_window_t *w, const char *op);

/**
 * Checks the parameters of bnn_conv2d_pool_quantize (bnn_fused.h), as its reference and
 * optimized variants both need them checked, with the same errors and log lines; on BNN_OK
 * *fin_h / *fin_w are the final map's height and width (after the pools).
 */
bnn_status_t bnn_fused_check(const bnn_fused_params_t *p, const void *in, const uint32_t *out,
                             int32_t *fin_h, int32_t *fin_w);

/** Element offset of index (i0..i3) through 4 strides. */
static inline int32_t bnn_bc_offset(const int32_t *stride, int32_t i0, int32_t i1, int32_t i2,
                                    int32_t i3)
{
    return i0 * stride[0] + i1 * stride[1] + i2 * stride[2] + i3 * stride[3];
}

/** Checks a broadcast description; returns BNN_OK or BNN_ERR_ARG. */
bnn_status_t bnn_check_broadcast(const bnn_broadcast_t *bc, const char *op);

/**
 * LceBconv2d output transform for float and int8 (spec §6.5), shared by every variant:
 *   x2 = clamp(x2, cmin, cmax); y = (float)x2 * mul; y = y + bias.
 * The multiply and the add are separate statements on a named float, so with
 * -ffp-contract=off they round separately (no FMA), as LCE's x86 build does.
 */
static inline float bnn_bconv_transform(int32_t x2, int32_t cmin, int32_t cmax, float mul,
                                        float bias)
{
    float y;
    x2 = bnn_clamp_i32(x2, cmin, cmax);
    y = (float)x2 * mul;
    y = y + bias;
    return y;
}

/* LceBconv2d zero padding with float output (spec §6.8, Appendix B): the sum S of
 * Cg - 2*popcount over the taps LCE's default kernel corrects at (oy, ox); *has_corr is 0
 * where no correction applies. Defined in src/bnn_bconv2d_zero_pad.c. */
int32_t bnn_bconv2d_zero_pad_sum(const bnn_bconv2d_params_t *p, const uint32_t *filter_co,
                                 int32_t words_g, int32_t cg, int32_t oy, int32_t ox,
                                 int *has_corr);

#endif /* BNN_INTERNAL_H */
