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
#if !BNN_OPT_DOT_INLINE /* else static inline in bnn_bdot_opt.h */
#if defined(__GNUC__)
#define BNN_OPT_NOINLINE __attribute__((noinline))
#else
#define BNN_OPT_NOINLINE
#endif

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
#endif /* !BNN_OPT_DOT_INLINE */

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
#else
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
