/* Binary dot products of the optimized kernels (bnn_bdot_opt.h): popcount(x ^ f_b) over kw
 * words for blocks of 1, 2 or 4 filters, in runs of <= BNN_OPT_RUN_MAX words whose byte-field
 * counts (bnn_popcount_opt.h) are reduced once per run. */
#include "bnn_bdot_opt.h"

#if BNN_OPT_POPCOUNT_LUT
const uint8_t bnn_opt_popcount_table[256] = {
#define BNN_B2(n) n, n + 1, n + 1, n + 2
#define BNN_B4(n) BNN_B2(n), BNN_B2(n + 1), BNN_B2(n + 1), BNN_B2(n + 2)
#define BNN_B6(n) BNN_B4(n), BNN_B4(n + 1), BNN_B4(n + 1), BNN_B4(n + 2)
    BNN_B6(0), BNN_B6(1), BNN_B6(1), BNN_B6(2)
#undef BNN_B6
#undef BNN_B4
#undef BNN_B2
};
#endif

/*
 * The dot products are separate, non-inlined functions: the register allocator then sees
 * only the loop (masks, pointers, counts), and nothing of the caller spills into it.
 * Each returns popcount(x ^ f_b) over kw words, in runs of <= BNN_OPT_RUN_MAX words.
 */
#if defined(__GNUC__)
#define BNN_OPT_NOINLINE __attribute__((noinline))
#else
#define BNN_OPT_NOINLINE
#endif

#if BNN_OPT_MVE
/*
 * Helium (Cortex-M55): four lanes of gathered words, counted by the carry-save tree and the
 * field steps of bnn_popcount_opt.h. bnn_opt_dot_many and bnn_opt_dot4 give each lane one
 * filter (the patch word broadcast: the same address in every lane); bnn_opt_dot2 splits
 * each of its two filters into two halves (lanes f0 lo, f0 hi, f1 lo, f1 hi; kw = 18 is then
 * one nine-step tree per lane) and bnn_opt_dot1 into four quarters; their lanes are added
 * with predicated VADDV.
 */

/*
 * A predicate from its 16 bits (four per 32-bit lane, one per byte), passed through a
 * register: GCC 12 folds predicate CONSTANTS of 32-bit-lane operations wrongly (it keeps
 * only the low four bits as one bit per lane, so 0x00FF and 0x0F0F became "all lanes";
 * found by the tests), a register value goes to VPR unchanged.
 */
BNN_OPT_INLINE mve_pred16_t mve_pred(uint32_t bits)
{
    __asm__("" : "+r"(bits));
    return (mve_pred16_t)bits;
}
#define BNN_OPT_MVE_P01 mve_pred(0x00FFu) /* lanes 0 and 1 */
#define BNN_OPT_MVE_P23 mve_pred(0xFF00u) /* lanes 2 and 3 */
#define BNN_OPT_MVE_P02 mve_pred(0x0F0Fu) /* lanes 0 and 2 */

/* Counts of four filters (kw words apart, from the byte addresses fa) against x (the byte
 * address xa in every lane). kw is a constant where it pays: 9 and 18 are unrolled trees. */
BNN_OPT_INLINE uint32x4_t dot_lanes4(uint32x4_t xa, uint32x4_t fa, int32_t kw)
{
    /* xa is the same for every block of a pixel: hidden from GCC, which would otherwise hoist
     * the x gathers out of the caller's loop and spill them (a reload costs two
     * instructions, the gather one). */
    __asm__ volatile("" : "+w"(xa));
    if (kw == 9) {
        return bnn_opt_mve_lanesum(bnn_opt_mve_pc9(xa, fa));
    }
    if (kw == 18) {
        return bnn_opt_mve_lanesum(vaddq_u8(
            bnn_opt_mve_pc9(xa, fa), bnn_opt_mve_pc9(vaddq_n_u32(xa, 36u), vaddq_n_u32(fa, 36u))));
    }
    return bnn_opt_mve_lanes(xa, fa, kw);
}

/* acc[b] for the n filters of f, four per step; the last 1-3 take clamped lanes (the last
 * filter again) and a predicated store. */
BNN_OPT_INLINE void dot_many_k(const uint32_t *x, const uint32_t *f, int32_t kw, int32_t n,
                               int32_t *acc)
{
    const uint32x4_t xa = bnn_opt_mve_addr(x);
    const uint32_t step = 16u * (uint32_t)kw;
    uint32x4_t fa = bnn_opt_mve_addr4(f, kw);
    int32_t b = 0;
    for (; b + 4 <= n; b += 4, acc += 4) {
        vstrwq_s32(acc, vreinterpretq_s32_u32(dot_lanes4(xa, fa, kw)));
        fa = vaddq_n_u32(fa, step);
    }
    if (b < n) {
        const uint32_t last = (uint32_t)(uintptr_t)(f + (size_t)(n - 1) * (size_t)kw);
        fa = vminq_u32(fa, vdupq_n_u32(last));
        vstrwq_p_s32(acc, vreinterpretq_s32_u32(dot_lanes4(xa, fa, kw)),
                     vctp32q((uint32_t)(n - b)));
    }
}

void bnn_opt_dot_many(const uint32_t *x, const uint32_t *f, int32_t kw, int32_t n, int32_t *acc)
{
    if (kw == 9) {
        dot_many_k(x, f, 9, n, acc);
    } else if (kw == 18) {
        dot_many_k(x, f, 18, n, acc);
    } else {
        dot_many_k(x, f, kw, n, acc);
    }
}

BNN_OPT_NOINLINE void bnn_opt_dot4(const uint32_t *x, const uint32_t *f0, int32_t kw, int32_t *acc)
{
    bnn_opt_dot_many(x, f0, kw, 4, acc);
}

/* Two filters, two halves each: lanes cover words [0, g) and [g, kw) of f0 and f1, g = kw - h
 * and h = kw / 2 steps for every lane, plus word h of the first halves when kw is odd. */
BNN_OPT_NOINLINE void bnn_opt_dot2(const uint32_t *x, const uint32_t *f0, int32_t kw, int32_t *acc)
{
    const int32_t h = kw / 2, g = kw - h;
    const uint32x4_t lane_half = vandq_u32(vidupq_n_u32(0u, 1), vdupq_n_u32(1u)); /* 0 1 0 1 */
    const uint32x4_t lane_filter = vshrq_n_u32(vidupq_n_u32(0u, 1), 1);          /* 0 0 1 1 */
    const uint32x4_t xa = vmlaq_n_u32(bnn_opt_mve_addr(x), lane_half, 4u * (uint32_t)g);
    const uint32x4_t fa = vmlaq_n_u32(vmlaq_n_u32(bnn_opt_mve_addr(f0), lane_half,
                                                  4u * (uint32_t)g),
                                      lane_filter, 4u * (uint32_t)kw);
    if (kw == 18) {
        const uint8x16_t s = bnn_opt_mve_pc9(xa, fa);
        acc[0] = (int32_t)vaddvq_p_u8(s, BNN_OPT_MVE_P01);
        acc[1] = (int32_t)vaddvq_p_u8(s, BNN_OPT_MVE_P23);
    } else {
        uint32x4_t cnt = bnn_opt_mve_lanes(xa, fa, h);
        if (g > h) { /* word h of the first halves (lanes 0 and 2) */
            const mve_pred16_t p02 = BNN_OPT_MVE_P02;
            const uint32x4_t zero = vdupq_n_u32(0u);
            const uint32x4_t v = veorq_u32(
                vldrwq_gather_base_z_u32(vaddq_n_u32(xa, 4u * (uint32_t)h), 0, p02),
                vldrwq_gather_base_z_u32(vaddq_n_u32(fa, 4u * (uint32_t)h), 0, p02));
            cnt = vaddq_u32(cnt, bnn_opt_mve_lanesum(bnn_opt_mve_pc3(v, zero, zero)));
        }
        acc[0] = (int32_t)vaddvq_p_u32(cnt, BNN_OPT_MVE_P01);
        acc[1] = (int32_t)vaddvq_p_u32(cnt, BNN_OPT_MVE_P23);
    }
}

/* Four quarters of q = kw / 4 words, then the last kw % 4 words in one predicated vector. */
BNN_OPT_NOINLINE int32_t bnn_opt_dot1(const uint32_t *x, const uint32_t *f0, int32_t kw)
{
    const int32_t q = kw / 4, r = kw % 4;
    int32_t acc = (int32_t)vaddvq_u32(
        bnn_opt_mve_lanes(bnn_opt_mve_addr4(x, q), bnn_opt_mve_addr4(f0, q), q));
    if (r > 0) {
        const mve_pred16_t p = vctp32q((uint32_t)r);
        const uint32x4_t zero = vdupq_n_u32(0u);
        const uint32x4_t v = veorq_u32(vldrwq_z_u32(x + 4 * q, p), vldrwq_z_u32(f0 + 4 * q, p));
        acc = (int32_t)vaddvaq_u8((uint32_t)acc, bnn_opt_mve_pc3(v, zero, zero));
    }
    return acc;
}
#endif /* BNN_OPT_MVE */

#if !BNN_OPT_DOT_INLINE && !BNN_OPT_MVE /* else bnn_bdot_opt.h or the Helium versions above */

BNN_OPT_NOINLINE int32_t bnn_opt_dot1(const uint32_t *x, const uint32_t *f0, int32_t kw)
{
    const bnn_opt_masks_t m = bnn_opt_masks();
    int32_t acc = 0;
    while (kw > 0) {
        const int32_t n = kw < BNN_OPT_RUN_MAX ? kw : BNN_OPT_RUN_MAX;
        const uint32_t *const end = x + 3 * (n / 3);
        uint32_t s0 = 0u;
        while (x != end) {
            s0 += bnn_opt_pc3(x[0] ^ f0[0], x[1] ^ f0[1], x[2] ^ f0[2], m);
            x += 3;
            f0 += 3;
        }
        if (n % 3 == 2) {
            s0 += bnn_opt_pc2(x[0] ^ f0[0], x[1] ^ f0[1], m);
        } else if (n % 3 == 1) {
            s0 += bnn_opt_pc1(x[0] ^ f0[0], m);
        }
        x += n % 3;
        f0 += n % 3;
        acc += bnn_opt_hsum(s0);
        kw -= n;
    }
    return acc;
}

BNN_OPT_NOINLINE void bnn_opt_dot2(const uint32_t *x, const uint32_t *f0, int32_t kw, int32_t *acc)
{
    const bnn_opt_masks_t m = bnn_opt_masks();
    const uint32_t *f1 = f0 + kw;
    int32_t a0 = 0, a1 = 0;
    while (kw > 0) {
        const int32_t n = kw < BNN_OPT_RUN_MAX ? kw : BNN_OPT_RUN_MAX;
        const uint32_t *const end = x + 3 * (n / 3);
        uint32_t s0 = 0u, s1 = 0u;
        while (x != end) {
            const uint32_t x0 = x[0], x1 = x[1], x2 = x[2];
            s0 += bnn_opt_pc3(x0 ^ f0[0], x1 ^ f0[1], x2 ^ f0[2], m);
            s1 += bnn_opt_pc3(x0 ^ f1[0], x1 ^ f1[1], x2 ^ f1[2], m);
            x += 3;
            f0 += 3;
            f1 += 3;
        }
        if (n % 3 == 2) {
            s0 += bnn_opt_pc2(x[0] ^ f0[0], x[1] ^ f0[1], m);
            s1 += bnn_opt_pc2(x[0] ^ f1[0], x[1] ^ f1[1], m);
        } else if (n % 3 == 1) {
            s0 += bnn_opt_pc1(x[0] ^ f0[0], m);
            s1 += bnn_opt_pc1(x[0] ^ f1[0], m);
        }
        x += n % 3;
        f0 += n % 3;
        f1 += n % 3;
        a0 += bnn_opt_hsum(s0);
        a1 += bnn_opt_hsum(s1);
        kw -= n;
    }
    acc[0] = a0;
    acc[1] = a1;
}

BNN_OPT_NOINLINE void bnn_opt_dot4(const uint32_t *x, const uint32_t *f0, int32_t kw, int32_t *acc)
{
    bnn_opt_dot2(x, f0, kw, acc);
    bnn_opt_dot2(x, f0 + 2 * (size_t)kw, kw, acc + 2);
}
#endif /* !BNN_OPT_DOT_INLINE && !BNN_OPT_MVE */

#if BNN_OPT_DOT_INLINE
/* Thumb-2: kw = 9 and 18 (3x3 taps of one or two words) get loops of their own: one or two
 * assembly adder trees (bnn_opt_pc9) and USADA8 per filter, nothing else but the loop. */
void bnn_opt_dot_many(const uint32_t *x, const uint32_t *f, int32_t kw, int32_t n, int32_t *acc)
{
    int32_t b;
    if (kw == 9) {
        for (b = 0; b < n; ++b) {
            acc[b] = bnn_opt_hsum_acc(0, bnn_opt_pc9(x, &f));
        }
    } else if (kw == 18) {
        for (b = 0; b < n; ++b) {
            const int32_t lo = bnn_opt_hsum_acc(0, bnn_opt_pc9(x, &f));
            acc[b] = bnn_opt_hsum_acc(lo, bnn_opt_pc9(x + 9, &f));
        }
    } else {
        for (b = 0; b < n; ++b, f += kw) {
            acc[b] = bnn_opt_dot1(x, f, kw);
        }
    }
}
#elif !BNN_OPT_MVE
/* Blocks of two filters share each x word (measured on netduinoplus2 before the Thumb-2
 * version: 1 -> 2.64 M instructions for conv2 of bnn_cnn_small, 2 -> 2.45 M, 4 -> 2.44 M). */
void bnn_opt_dot_many(const uint32_t *x, const uint32_t *f, int32_t kw, int32_t n, int32_t *acc)
{
    int32_t b = 0;
    for (; b + 2 <= n; b += 2) {
        bnn_opt_dot2(x, f + (size_t)b * (size_t)kw, kw, acc + b);
    }
    if (b < n) {
        acc[b] = bnn_opt_dot1(x, f + (size_t)b * (size_t)kw, kw);
    }
}
#endif
