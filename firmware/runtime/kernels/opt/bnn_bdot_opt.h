/**
 * @file bnn_bdot_opt.h
 * @brief Binary dot products and small helpers shared by the optimized binary kernels
 *        (bnn_bconv2d_opt, bnn_conv2d_pool_quantize_opt); internal, not public API.
 *
 * bnn_opt_dot{1,2,4}(x, f, kw, ...) return popcount(x ^ f_b) over kw words for 1, 2 or 4
 * filters f_b = f + b * kw that share the input x (each x word is loaded once per block).
 * They are out-of-line functions (bnn_bdot_opt.c): the register allocator then sees only
 * the loop, and nothing of the caller spills into it.
 */
#ifndef BNN_BDOT_OPT_H
#define BNN_BDOT_OPT_H

#include "../../src/bnn_internal.h"
#include "bnn_popcount_opt.h"

/** popcount(x ^ f0) over kw >= 0 words. */
int32_t bnn_opt_dot1(const uint32_t *x, const uint32_t *f0, int32_t kw);
/** acc[b] = popcount(x ^ (f0 + b * kw)) over kw words, b < 2. */
void bnn_opt_dot2(const uint32_t *x, const uint32_t *f0, int32_t kw, int32_t *acc);
/** acc[b] = popcount(x ^ (f0 + b * kw)) over kw words, b < 4. */
void bnn_opt_dot4(const uint32_t *x, const uint32_t *f0, int32_t kw, int32_t *acc);

/** acc[b] = popcount(x ^ f_b) over kw words, for B (1, 2 or 4) filters f_b = f + b * kw. */
BNN_OPT_INLINE void bnn_opt_dot_block(int B, const uint32_t *x, const uint32_t *f, int32_t kw,
                                      int32_t *acc)
{
    if (B == 4) {
        bnn_opt_dot4(x, f, kw, acc);
    } else if (B == 2) {
        bnn_opt_dot2(x, f, kw, acc);
    } else {
        acc[0] = bnn_opt_dot1(x, f, kw);
    }
}

/** popcount of len >= 0 words (filter words of outside taps). */
BNN_OPT_INLINE int32_t bnn_opt_count(const uint32_t *f, int32_t len)
{
    const bnn_opt_masks_t m = bnn_opt_masks();
    int32_t acc = 0;
    while (len > 0) {
        int32_t n = len < BNN_OPT_RUN_MAX ? len : BNN_OPT_RUN_MAX;
        uint32_t s = 0u;
        len -= n;
        for (; n >= 3; n -= 3, f += 3) {
            s += bnn_opt_pc3(f[0], f[1], f[2], m);
        }
        if (n == 2) {
            s += bnn_opt_pc2(f[0], f[1], m);
        } else if (n == 1) {
            s += bnn_opt_pc1(f[0], m);
        }
        f += n;
        acc += bnn_opt_hsum(s);
    }
    return acc;
}

/*
 * int8 output: saturate_int8(round_half_away_from_zero(y)), equal to the reference's
 * bnn_round_sat_s8 (which rounds in double) for every float y, without double arithmetic
 * (a library call on single-precision FPUs):
 * 1. Clamping y to [-129, 128] first changes no saturated result and keeps the int
 *    conversion defined.
 * 2. r = trunc(y) and fr = y - (float)r are exact (r is representable; the fraction of a
 *    float is a float), so fr >= 0.5 / fr <= -0.5 detects the half-away-from-zero step.
 */
BNN_OPT_INLINE int8_t bnn_opt_round_sat_s8(float y)
{
    float yc = y < -129.0f ? -129.0f : y;
    int32_t r;
    float fr;
    yc = yc > 128.0f ? 128.0f : yc;
    r = (int32_t)yc;
    fr = yc - (float)r;
    r += (fr >= 0.5f ? 1 : 0) - (fr <= -0.5f ? 1 : 0);
    return (int8_t)bnn_clamp_i32(r, -128, 127);
}

#endif /* BNN_BDOT_OPT_H */
