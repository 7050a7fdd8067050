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

/*
 * ARMv7-M / ARMv8-M Mainline (Cortex-M3/M4/M7/M33): the dot products are static inline, so
 * a pixel's channel loop has no call (about 35 instructions of call, spill and reload per
 * dot product with the out-of-line versions), and words come in chunks of NINE (a 3x3 tap
 * with one word per tap; kw = 9 or 18 in the common layers) reduced by a full carry-save
 * adder tree before any field arithmetic (bnn_opt_pc9). Everything else (host, Cortex-M0,
 * Cortex-M55, the byte-table build) uses the out-of-line functions of bnn_bdot_opt.c.
 */
#if !BNN_OPT_POPCOUNT_LUT                                                                  \
    && (defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__))
#define BNN_OPT_DOT_INLINE 1
#else
#define BNN_OPT_DOT_INLINE 0
#endif

#if BNN_OPT_DOT_INLINE
/** Full adder on 32 bit positions: a + b + c = *ones + 2 * (returned twos), per bit. */
BNN_OPT_INLINE uint32_t bnn_opt_csa(uint32_t *ones, uint32_t a, uint32_t b, uint32_t c)
{
    const uint32_t u = a ^ b;
    *ones = u ^ c;
    return (a & b) | (u & c);
}

/** Nibble fields (each <= 4) of popcount(v). */
BNN_OPT_INLINE uint32_t bnn_opt_pc_nib(uint32_t v, bnn_opt_masks_t m)
{
    v = v - ((v >> 1) & m.m1);
    return (v & m.m2) + ((v >> 2) & m.m2);
}

/*
 * Byte fields (each <= 72) of popcount(x[i] ^ f[i]) over i < 9: three full adders on the
 * word triples give ones o1..o3 and twos t1..t3; two more give o (weight 1), t4 and t
 * (weight 2) and fo (weight 4). Per bit: sum = o + 2 * (t4 + t) + 4 * fo. Fields:
 * a = nib(o) + 2 nib(t4) <= 12 and b = nib(t) + 2 nib(fo) <= 12 per nibble, then bytes
 * a8 + 2 b8 <= 24 + 48. 9 XOR + 25 (adders) + 30 (fields) instructions for nine words.
 */
BNN_OPT_INLINE uint32_t bnn_opt_pc9(const uint32_t *x, const uint32_t *f, bnn_opt_masks_t m)
{
    uint32_t o1, o2, o3, o, t;
    const uint32_t t1 = bnn_opt_csa(&o1, x[0] ^ f[0], x[1] ^ f[1], x[2] ^ f[2]);
    const uint32_t t2 = bnn_opt_csa(&o2, x[3] ^ f[3], x[4] ^ f[4], x[5] ^ f[5]);
    const uint32_t t3 = bnn_opt_csa(&o3, x[6] ^ f[6], x[7] ^ f[7], x[8] ^ f[8]);
    const uint32_t t4 = bnn_opt_csa(&o, o1, o2, o3);
    const uint32_t fo = bnn_opt_csa(&t, t1, t2, t3);
    uint32_t a = bnn_opt_pc_nib(o, m) + (bnn_opt_pc_nib(t4, m) << 1);
    uint32_t b = bnn_opt_pc_nib(t, m) + (bnn_opt_pc_nib(fo, m) << 1);
    a = (a & m.m4) + ((a >> 4) & m.m4);
    b = (b & m.m4) + ((b >> 4) & m.m4);
    return a + (b << 1);
}

#if defined(__ARM_FEATURE_SIMD32) && __ARM_FEATURE_SIMD32
/** acc + the sum of the four byte fields of v: one USADA8 (DSP cores: M4/M7/M33). */
BNN_OPT_INLINE int32_t bnn_opt_hsum_acc(int32_t acc, uint32_t v)
{
    int32_t r;
    __asm__("usada8 %0, %1, %2, %3" : "=r"(r) : "r"(v), "r"(0u), "r"(acc));
    return r;
}
#else
/** acc + the sum of the four byte fields of v (Cortex-M3, no DSP extension). */
BNN_OPT_INLINE int32_t bnn_opt_hsum_acc(int32_t acc, uint32_t v)
{
    return acc + bnn_opt_hsum(v);
}
#endif

/** popcount(x ^ f0) over kw >= 0 words. */
BNN_OPT_INLINE int32_t bnn_opt_dot1(const uint32_t *x, const uint32_t *f0, int32_t kw)
{
    const bnn_opt_masks_t m = bnn_opt_masks();
    int32_t acc = 0;
    for (; kw >= 9; kw -= 9, x += 9, f0 += 9) {
        acc = bnn_opt_hsum_acc(acc, bnn_opt_pc9(x, f0, m));
    }
    if (kw > 0) { /* <= 8 words: byte fields <= 64 */
        uint32_t s = 0u;
        for (; kw >= 3; kw -= 3, x += 3, f0 += 3) {
            s += bnn_opt_pc3(x[0] ^ f0[0], x[1] ^ f0[1], x[2] ^ f0[2], m);
        }
        if (kw == 2) {
            s += bnn_opt_pc2(x[0] ^ f0[0], x[1] ^ f0[1], m);
        } else if (kw == 1) {
            s += bnn_opt_pc1(x[0] ^ f0[0], m);
        }
        acc = bnn_opt_hsum_acc(acc, s);
    }
    return acc;
}

/** acc[b] = popcount(x ^ (f0 + b * kw)) over kw words, b < 2. */
BNN_OPT_INLINE void bnn_opt_dot2(const uint32_t *x, const uint32_t *f0, int32_t kw, int32_t *acc)
{
    acc[0] = bnn_opt_dot1(x, f0, kw);
    acc[1] = bnn_opt_dot1(x, f0 + kw, kw);
}

/** acc[b] = popcount(x ^ (f0 + b * kw)) over kw words, b < 4. */
BNN_OPT_INLINE void bnn_opt_dot4(const uint32_t *x, const uint32_t *f0, int32_t kw, int32_t *acc)
{
    bnn_opt_dot2(x, f0, kw, acc);
    bnn_opt_dot2(x, f0 + 2 * kw, kw, acc + 2);
}
#else
/** popcount(x ^ f0) over kw >= 0 words. */
int32_t bnn_opt_dot1(const uint32_t *x, const uint32_t *f0, int32_t kw);
/** acc[b] = popcount(x ^ (f0 + b * kw)) over kw words, b < 2. */
void bnn_opt_dot2(const uint32_t *x, const uint32_t *f0, int32_t kw, int32_t *acc);
/** acc[b] = popcount(x ^ (f0 + b * kw)) over kw words, b < 4. */
void bnn_opt_dot4(const uint32_t *x, const uint32_t *f0, int32_t kw, int32_t *acc);
#endif

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
