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
 * assembly adder trees (bnn_opt_pc9) and USADA8 per filter, nothing else but the loop; long
 * rows go to the Harley-Seal kernels (hs_piece: bnn_opt_hs_many, or hs36_many for kw = 36;
 * one call for all n filters), short
 * ones to a loop in a function of its own (with it inline, the kw == 18 loop spilled more:
 * measured +1 instruction per filter on conv3). */
BNN_OPT_INLINE void many9(const uint32_t *x, const uint32_t *f, int32_t n, int32_t *acc)
{
    int32_t b;
    for (b = 0; b < n; ++b) {
        acc[b] = bnn_opt_hsum_acc(0, bnn_opt_pc9(x, &f));
    }
}

BNN_OPT_INLINE void many18(const uint32_t *x, const uint32_t *f, int32_t n, int32_t *acc)
{
    int32_t b;
    for (b = 0; b < n; ++b) {
        const int32_t lo = bnn_opt_hsum_acc(0, bnn_opt_pc9(x, &f));
        acc[b] = bnn_opt_hsum_acc(lo, bnn_opt_pc9(x + 9, &f));
    }
}

BNN_OPT_NOINLINE static void many_short(const uint32_t *x, const uint32_t *f, int32_t kw,
                                        int32_t n, int32_t *acc)
{
    int32_t b;
    for (b = 0; b < n; ++b, f += kw) {
        acc[b] = bnn_opt_dot1_pc9(x, f, kw);
    }
}

/* Harley-Seal on one piece of 16..BNN_OPT_HS_MAX words (kw == 36: its own kernel; below). */
static void hs_piece(const uint32_t *x, const uint32_t *f, int32_t kw, int32_t n, int32_t *acc);

void bnn_opt_dot_many(const uint32_t *x, const uint32_t *f, int32_t kw, int32_t n, int32_t *acc)
{
    int32_t b;
    if (n <= 0) {
        return;
    }
    if (kw == 9) {
        many9(x, f, n, acc);
    } else if (kw == 18) {
        many18(x, f, n, acc);
    } else if (kw < BNN_OPT_HS_MIN) {
        many_short(x, f, kw, n, acc);
    } else if (kw <= BNN_OPT_HS_MAX) {
        hs_piece(x, f, kw, n, acc);
    } else {
        for (b = 0; b < n; ++b, f += kw) {
            acc[b] = bnn_opt_dot_long(x, f, kw);
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

#if BNN_OPT_HS
/*
 * Harley-Seal dot products for long rows (BNN_OPT_HS_MIN <= kw <= BNN_OPT_HS_MAX words, see
 * bnn_bdot_opt.h for why). Registers in the block loop: r0 = x, r1 = f, r2 = o (weight 1),
 * r3 = t (2), r4 = q (4), r7 = the pending weight-4 carry of the block's first or third
 * group, r5 r6 r8 r9 (x words), r10 r11 r12 lr (f words, then scratch). The rarely touched
 * state lives in the frame and moves with one LDM / STM per 16 words:
 *   [sp]  e (8)   [sp+4]  s (16)   [sp+8]  z (32)   [sp+12] eA (pending weight-8 carry)
 *   [sp+16] end of x   [sp+20] acc   [sp+24] acc end   [sp+28] x   [sp+32] preamble entry
 *   [sp+36] group entry (entries have the Thumb bit set: LDR PC is an interworking branch)
 * FA(p, a, b, s): p + a + b = p' + 2 a' per bit (p' in p, a' in a), s is scratch.
 */
#define HS_FA_TO(p, a, b, s, d)                                                               \
    "eor " s ", " p ", " a "\n\t"                                                             \
    "and " a ", " p ", " a "\n\t"                                                             \
    "eor " p ", " s ", " b "\n\t"                                                             \
    "and " s ", " s ", " b "\n\t"                                                             \
    "orr " d ", " a ", " s "\n\t"
#define HS_FA(p, a, b, s) HS_FA_TO(p, a, b, s, a)
/* Four words: d = x ^ f (LDM 4 + 4), o += d, t += carries; the weight-4 carry ends in d. */
#define HS_GROUP4_TO(d)                                                                             \
    "ldm r0!, {r5, r6, r8, r9}\n\t"                                                           \
    "ldm r1!, {r10, r11, r12, lr}\n\t"                                                        \
    "eor r5, r5, r10\n\t"                                                                     \
    "eor r6, r6, r11\n\t"                                                                     \
    "eor r8, r8, r12\n\t"                                                                     \
    "eor r9, r9, lr\n\t"                                                                      \
    HS_FA("r2", "r5", "r6", "r10")                                                            \
    HS_FA("r2", "r8", "r9", "r10")                                                            \
    HS_FA_TO("r3", "r5", "r8", "r10", d)
#define HS_GROUP4 HS_GROUP4_TO("r5")
/* Preamble group: also q += carry (r4), e ^= its carry (r7; <= 15 words: no carry out). */
#define HS_GROUP_PRE                                                                          \
    HS_GROUP4                                                                                 \
    "and r10, r4, r5\n\t"                                                                     \
    "eor r4, r4, r5\n\t"                                                                      \
    "eor r7, r7, r10\n\t"
/* Nibble fields (each <= 4) of plane p: masks r10 = 0x55.., r11 = 0x33..; r5 scratch. */
#define HS_NIB(p)                                                                             \
    "and r5, r10, " p ", lsr #1\n\t"                                                          \
    "sub " p ", " p ", r5\n\t"                                                                \
    "and r5, r11, " p ", lsr #2\n\t"                                                          \
    "and " p ", " p ", r11\n\t"                                                               \
    "add " p ", " p ", r5\n\t"
#if defined(__ARM_FEATURE_SIMD32) && __ARM_FEATURE_SIMD32
/* r5 = the sum of the bytes of r5 and r2 (each <= 252). */
#define HS_HSUM                                                                               \
    "movs r0, #0\n\t"                                                                         \
    "usad8 r5, r5, r0\n\t"                                                                    \
    "usada8 r5, r2, r0, r5\n\t"
#else
#define HS_HSUM                                                                               \
    "mov r0, #0x00FF00FF\n\t"                                                                 \
    "and r6, r5, r0\n\t"                                                                      \
    "and r5, r0, r5, lsr #8\n\t"                                                              \
    "add r5, r5, r6\n\t"                                                                      \
    "and r6, r2, r0\n\t"                                                                      \
    "add r5, r5, r6\n\t"                                                                      \
    "and r6, r0, r2, lsr #8\n\t"                                                              \
    "add r5, r5, r6\n\t"                                                                      \
    "add r5, r5, r5, lsr #16\n\t"                                                             \
    "uxth r5, r5\n\t"
#endif

#define HS_ARG __attribute__((unused)) /* read by the assembly (AAPCS: r0-r3, [sp]) */
__attribute__((naked, noinline)) void bnn_opt_hs_many(HS_ARG const uint32_t *x,
                                                      HS_ARG const uint32_t *f, HS_ARG int32_t kw,
                                                      HS_ARG int32_t n, HS_ARG int32_t *acc)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "sub sp, sp, #40\n\t"
        "ldr r4, [sp, #76]\n\t" /* acc */
        "add r5, r0, r2, lsl #2\n\t"
        "add r6, r4, r3, lsl #2\n\t"
        "strd r5, r4, [sp, #16]\n\t"
        "strd r6, r0, [sp, #24]\n\t"
        /* entries: r = kw & 15 = 4 g + r1 preamble words, then (kw - r) / 16 blocks */
        "ubfx r5, r2, #2, #2\n\t" /* g */
        "ands r6, r2, #3\n\t"     /* r1 */
        "bne 1f\n\t"
        "cbz r5, 2f\n\t"
        "adr.w r7, .Lhs_zg\n\t" /* r1 == 0, g >= 1: the first group starts from zero planes */
        "subs r5, r5, #1\n\t"
        "b 3f\n"
        "2:\n\t"
        "adr.w r7, .Lhs_z0\n\t"
        "b 3f\n"
        "1:\n\t"
        "adr.w r7, .Lhs_r1\n\t"
        "cmp r6, #2\n\t"
        "it eq\n\t"
        "adreq.w r7, .Lhs_r2\n\t"
        "cmp r6, #3\n\t"
        "it eq\n\t"
        "adreq.w r7, .Lhs_r3\n"
        "3:\n\t"
        "adr.w r8, .Lhs_g0\n\t" /* groups entry: .Lhs_g0 - g * (group length) */
        "adr.w r9, .Lhs_g1\n\t"
        "subs r9, r8, r9\n\t"
        "mls r8, r5, r9, r8\n\t"
        "orr r7, r7, #1\n\t"
        "orr r8, r8, #1\n\t"
        "strd r7, r8, [sp, #32]\n"
        /* ---- one filter ---- */
        ".Lhs_filter:\n\t"
        "ldr r0, [sp, #28]\n\t"
        "ldr pc, [sp, #32]\n"
        ".Lhs_r1:\n\t"
        "ldr r6, [r0], #4\n\t"
        "ldr r10, [r1], #4\n\t"
        "eor r2, r6, r10\n\t"
        "movs r3, #0\n\t"
        "b .Lhs_rq\n"
        ".Lhs_r2:\n\t"
        "ldrd r5, r6, [r0], #8\n\t"
        "ldrd r10, r11, [r1], #8\n\t"
        "eor r5, r5, r10\n\t"
        "eor r6, r6, r11\n\t"
        "eor r2, r5, r6\n\t"
        "and r3, r5, r6\n\t"
        "b .Lhs_rq\n"
        ".Lhs_r3:\n\t"
        "ldm r0!, {r5, r6, r8}\n\t"
        "ldm r1!, {r10, r11, r12}\n\t"
        "eor r5, r5, r10\n\t"
        "eor r6, r6, r11\n\t"
        "eor r8, r8, r12\n\t"
        "eor r10, r5, r6\n\t"
        "and r5, r5, r6\n\t"
        "eor r2, r10, r8\n\t"
        "and r10, r10, r8\n\t"
        "orr r3, r5, r10\n"
        ".Lhs_rq:\n\t"
        "movs r4, #0\n\t"
        "movs r7, #0\n\t"
        "ldr pc, [sp, #36]\n"
        ".Lhs_zg:\n\t" /* four words into zero planes: FA, then two half adders */
        "ldm r0!, {r5, r6, r8, r9}\n\t"
        "ldm r1!, {r10, r11, r12, lr}\n\t"
        "eor r5, r5, r10\n\t"
        "eor r6, r6, r11\n\t"
        "eor r8, r8, r12\n\t"
        "eor r9, r9, lr\n\t"
        "eor r10, r5, r6\n\t"
        "and r5, r5, r6\n\t"
        "eor r2, r10, r8\n\t"
        "and r10, r10, r8\n\t"
        "orr r5, r5, r10\n\t"
        "and r6, r2, r9\n\t"
        "eor r2, r2, r9\n\t"
        "eor r3, r5, r6\n\t"
        "and r4, r5, r6\n\t"
        "movs r7, #0\n\t"
        "ldr pc, [sp, #36]\n"
        ".Lhs_z0:\n\t"
        "movs r2, #0\n\t"
        "movs r3, #0\n\t"
        "movs r4, #0\n\t"
        "movs r7, #0\n\t"
        "b .Lhs_g0\n\t"
        ".p2align 2\n"
        ".Lhs_g3:\n\t" HS_GROUP_PRE
        ".Lhs_g2:\n\t" HS_GROUP_PRE
        ".Lhs_g1:\n\t" HS_GROUP_PRE
        ".Lhs_g0:\n\t"
        "movs r8, #0\n\t"
        "movs r9, #0\n\t"
        "stm sp, {r7, r8, r9}\n"
        /* ---- blocks of 16 words ---- */
        ".Lhs_block:\n\t"
        HS_GROUP4_TO("r7")
        HS_GROUP4
        HS_FA("r4", "r7", "r5", "r10") /* q: eA in r7 */
        "str r7, [sp, #12]\n\t"
        HS_GROUP4_TO("r7")
        HS_GROUP4
        HS_FA("r4", "r7", "r5", "r10") /* q: eB in r7 */
        "ldm sp, {r6, r8, r9, r10, r11}\n\t" /* e s z eA end */
        HS_FA("r6", "r10", "r7", "r12")       /* e: sixteens carry in r10 */
        "and r12, r8, r10\n\t"
        "eor r8, r8, r10\n\t"
        "eor r9, r9, r12\n\t" /* kw <= 63: z + carry <= 1 */
        "stm sp, {r6, r8, r9}\n\t"
        "cmp r0, r11\n\t"
        "bne .Lhs_block\n\t"
        /* ---- planes o t q e s z (r2 r3 r4 r6 r8 r9) to the count ---- */
        "mov r10, #0x55555555\n\t"
        "mov r11, #0x33333333\n\t"
        "mov r12, #0x0F0F0F0F\n\t"
        HS_NIB("r2") HS_NIB("r3") HS_NIB("r4") HS_NIB("r6") HS_NIB("r8") HS_NIB("r9")
        "add r2, r2, r3, lsl #1\n\t" /* nibbles <= 12 */
        "add r4, r4, r6, lsl #1\n\t"
        "add r8, r8, r9, lsl #1\n\t"
        "and r5, r2, r12\n\t" /* low nibbles: bytes <= 12 + 4 * 12 + 16 * 12 = 252 */
        "and lr, r4, r12\n\t"
        "add r5, r5, lr, lsl #2\n\t"
        "and lr, r8, r12\n\t"
        "add r5, r5, lr, lsl #4\n\t"
        "and r2, r12, r2, lsr #4\n\t" /* high nibbles, the same */
        "and r4, r12, r4, lsr #4\n\t"
        "add r2, r2, r4, lsl #2\n\t"
        "and r8, r12, r8, lsr #4\n\t"
        "add r2, r2, r8, lsl #4\n\t"
        HS_HSUM
        "ldrd r6, r7, [sp, #20]\n\t"
        "str r5, [r6], #4\n\t"
        "str r6, [sp, #20]\n\t"
        "cmp r6, r7\n\t"
        "bne .Lhs_filter\n\t"
        "add sp, sp, #40\n\t"
        "pop {r4-r11, pc}\n\t");
}

/*
 * kw == 36 (dense 1152 -> N: 36 words per filter): the same carry-save adders without the
 * general kernel's overheads. Words 0-3 go into zero planes (FA + 2 HA: o, t, q), then two
 * blocks of 16 words; e is born in the first block's last half adder (2, not an FA) and, with
 * the first block's sixteens S1, waits in the frame (one STRD, one LDRD); the second block's
 * sixteens S2 are not added into a plane: pc(S1) + pc(S2) = pc(S1 ^ S2) + 2 pc(S1 & S2). Registers:
 * r0 x, r1 f, r2 o, r3 t, r4 q, r6 r7 the pending weight-8 / weight-4 carries, r8-r11 x words,
 * r5 r6 r7 r12 lr f words and scratch; a group loads its f words with one LDM when two of
 * r5-r7 are free, else with two LDRD (the fourth group of a block: +1 instruction). The count
 * needs no mask registers: "x - ((x & 0xAA..) >> 1)" and the other steps use Thumb-2
 * replicated immediates, so a plane's nibble fields cost 5 and no MOV of masks is needed.
 * Per filter: head 15 (LDM 2, EOR 4, 9), each block 95 (LDM/LDRD 9, EOR 16, 70 adders), the
 * first block's end 3 (HA, STRD), the second's 6 (one LDM of x, acc, end, a zero, e and S1:
 * no separate reset of x or MOV of a zero; FA), count 42 (s = S1 ^ S2 and z = S1 & S2 2,
 * nibble fields of o t q e s 25, BNE 1, weights 2, bytes 10, USAD8 + USADA8 2), store and
 * loop 4: 260 (the general kernel: ~290). z (a bit position where >= 32 of the 36 words
 * differ) costs 7 more when set (out of line), so the count stays exact for any data.
 * Measured (QEMU -icount, netduinoplus2): 263 per filter with the call for n = 32, 270 with
 * every bit differing; bench fc1_f32 39,750 -> 35,881.
 */
/* Four words (x: LDM into r8-r11, f: LDM into fa fb r12 lr), o and t updated; the weight-4
 * carry ends in d. */
#define HS36_GROUP(fa, fb, d)                                                                 \
    "ldm r0!, {r8, r9, r10, r11}\n\t"                                                         \
    "ldm r1!, {" fa ", " fb ", r12, lr}\n\t"                                                  \
    "eor r8, r8, " fa "\n\t"                                                                  \
    "eor r9, r9, " fb "\n\t"                                                                  \
    "eor r10, r10, r12\n\t"                                                                   \
    "eor r11, r11, lr\n\t"                                                                    \
    HS_FA("r2", "r8", "r9", "r12")                                                            \
    HS_FA("r2", "r10", "r11", "r12")                                                          \
    HS_FA_TO("r3", "r8", "r10", "r12", d)
/* The same with only r12 and lr free for f (two LDRD). */
#define HS36_GROUP_SPLIT(d)                                                                   \
    "ldm r0!, {r8, r9, r10, r11}\n\t"                                                         \
    "ldrd r12, lr, [r1], #8\n\t"                                                              \
    "eor r8, r8, r12\n\t"                                                                     \
    "eor r9, r9, lr\n\t"                                                                      \
    "ldrd r12, lr, [r1], #8\n\t"                                                              \
    "eor r10, r10, r12\n\t"                                                                   \
    "eor r11, r11, lr\n\t"                                                                    \
    HS_FA("r2", "r8", "r9", "r12")                                                            \
    HS_FA("r2", "r10", "r11", "r12")                                                          \
    HS_FA_TO("r3", "r8", "r10", "r12", d)
/* 16 words: weight-8 carries eA in r6, eB in r7 (q updated). */
#define HS36_BLOCK                                                                            \
    HS36_GROUP("r5", "r6", "r7")               /* fours A in r7 */                            \
    HS36_GROUP("r5", "r6", "r5")               /* fours B in r5 */                            \
    HS_FA_TO("r4", "r7", "r5", "r12", "r6")    /* eA in r6 */                                 \
    HS36_GROUP("r5", "r7", "r7")               /* fours A in r7 */                            \
    HS36_GROUP_SPLIT("r5")                     /* fours B in r5 */                            \
    HS_FA_TO("r4", "r7", "r5", "r12", "r7")    /* eB in r7 */
/* Nibble fields (each <= 4) of plane p with immediate masks; s is scratch. */
#define HS36_NIB(p, s)                                                                        \
    "and " s ", " p ", #0xAAAAAAAA\n\t"                                                       \
    "sub " p ", " p ", " s ", lsr #1\n\t"                                                     \
    "and " s ", " p ", #0xCCCCCCCC\n\t"                                                       \
    "and " p ", " p ", #0x33333333\n\t"                                                       \
    "add " p ", " p ", " s ", lsr #2\n\t"
#if defined(__ARM_FEATURE_SIMD32) && __ARM_FEATURE_SIMD32
/* r3 = the sum of the bytes of r3 and r11 (each <= 144); r9 = 0. */
#define HS36_HSUM                                                                             \
    "usad8 r3, r3, r9\n\t"                                                                    \
    "usada8 r3, r11, r9, r3\n\t"
#else
#define HS36_HSUM                                                                             \
    "and r12, r3, #0x00FF00FF\n\t"                                                            \
    "and r3, r3, #0xFF00FF00\n\t"                                                             \
    "add r3, r12, r3, lsr #8\n\t"                                                             \
    "and r12, r11, #0x00FF00FF\n\t"                                                           \
    "and r11, r11, #0xFF00FF00\n\t"                                                           \
    "add r11, r12, r11, lsr #8\n\t"                                                           \
    "add r3, r3, r11\n\t"                                                                     \
    "add r3, r3, r3, lsr #16\n\t"                                                             \
    "uxth r3, r3\n\t"
#endif

/* acc[b] = popcount(x ^ (f + 36 b)) over 36 words, b < n (n >= 1). Frame: [sp] x, [sp+4]
 * acc, [sp+8] acc end, [sp+12] 0, [sp+16] e, [sp+20] S1: after the last group one LDM
 * reloads x, acc, end, a zero for USAD8, e and S1. */
__attribute__((naked, noinline)) static void hs36_many(HS_ARG const uint32_t *x,
                                                       HS_ARG const uint32_t *f,
                                                       HS_ARG int32_t kw, HS_ARG int32_t n,
                                                       HS_ARG int32_t *acc)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "sub sp, sp, #28\n\t"
        "ldr r4, [sp, #64]\n\t" /* acc */
        "add r5, r4, r3, lsl #2\n\t"
        "movs r6, #0\n\t"
        "stm sp, {r0, r4, r5, r6}\n"
        ".Lh36_filter:\n\t"
        /* words 0-3 into zero planes: FA(d0, d1, d2), HA with d3 (o), HA of the carries */
        "ldm r0!, {r8, r9, r10, r11}\n\t"
        "ldm r1!, {r5, r6, r12, lr}\n\t"
        "eor r8, r8, r5\n\t"
        "eor r9, r9, r6\n\t"
        "eor r10, r10, r12\n\t"
        "eor r11, r11, lr\n\t"
        "eor r12, r8, r9\n\t"
        "and r8, r8, r9\n\t"
        "eor r2, r12, r10\n\t"
        "and r12, r12, r10\n\t"
        "orr r8, r8, r12\n\t"
        "and r9, r2, r11\n\t"
        "eor r2, r2, r11\n\t"
        "eor r3, r8, r9\n\t"
        "and r4, r8, r9\n\t"
        /* words 4-19: e = eA ^ eB and S1 = eA & eB to the frame */
        HS36_BLOCK
        "eor r5, r6, r7\n\t"
        "and r6, r6, r7\n\t"
        "strd r5, r6, [sp, #16]\n\t"
        /* words 20-35; then x, acc (r5), end (r8), 0 (r9), e (r10), S1 (r11) */
        HS36_BLOCK
        "ldm sp, {r0, r5, r8, r9, r10, r11}\n\t"
        HS_FA_TO("r10", "r6", "r7", "r12", "r6") /* e += eA + eB, S2 in r6 */
        /* count = pc(o) + 2 pc(t) + 4 pc(q) + 8 pc(e) + 16 (pc(S1) + pc(S2)) */
        /* count = pc(o) + 2 pc(t) + 4 pc(q) + 8 pc(e) + 16 (pc(s) + 2 pc(z)), s = S1 ^ S2,
         * z = S1 & S2: z marks bits where >= 32 of the 36 words differ, almost never set,
         * so its nibble fields are made out of line (.Lh36_z) only when z != 0 */
        "eor r7, r11, r6\n\t"  /* s */
        "ands r6, r11, r6\n\t" /* z; flags kept up to the BNE (no other flag setter) */
        HS36_NIB("r7", "r12")
        "bne .Lh36_z\n"
        ".Lh36_zback:\n\t"
        HS36_NIB("r2", "r12") HS36_NIB("r3", "r12") HS36_NIB("r4", "r12")
        HS36_NIB("r10", "r12")
        "add r2, r2, r3, lsl #1\n\t"   /* A = o + 2 t: nibbles <= 12 */
        "add r4, r4, r10, lsl #1\n\t"  /* B = q + 2 e: <= 12 */
        "and r3, r2, #0x0F0F0F0F\n\t"  /* low nibbles: bytes A + 4 B + 16 C (C = s + 2 z <= 8), */
        "and r12, r4, #0x0F0F0F0F\n\t" /* the count of four bit positions: <= 4 * 36 */
        "add r3, r3, r12, lsl #2\n\t"
        "and r12, r7, #0x0F0F0F0F\n\t"
        "add r3, r3, r12, lsl #4\n\t"
        "and r11, r7, #0xF0F0F0F0\n\t" /* high nibbles, the same (16 C + 4 B + A) */
        "and r4, r4, #0xF0F0F0F0\n\t"
        "add r11, r11, r4, lsr #2\n\t"
        "and r2, r2, #0xF0F0F0F0\n\t"
        "add r11, r11, r2, lsr #4\n\t"
        HS36_HSUM
        "str r3, [r5], #4\n\t"
        "str r5, [sp, #4]\n\t"
        "cmp r5, r8\n\t"
        "bne .Lh36_filter\n\t"
        "add sp, sp, #28\n\t"
        "pop {r4-r11, pc}\n"
        ".Lh36_z:\n\t" /* C = s + 2 z */
        HS36_NIB("r6", "r12")
        "add r7, r7, r6, lsl #1\n\t"
        "b .Lh36_zback\n\t");
}

/* One piece of <= BNN_OPT_HS_MAX words for n filters. */
static void hs_piece(const uint32_t *x, const uint32_t *f, int32_t kw, int32_t n, int32_t *acc)
{
    if (kw == 36) {
        hs36_many(x, f, kw, n, acc);
    } else {
        bnn_opt_hs_many(x, f, kw, n, acc);
    }
}

int32_t bnn_opt_dot_long(const uint32_t *x, const uint32_t *f, int32_t kw)
{
    int32_t acc = 0, r;
    while (kw > BNN_OPT_HS_MAX) { /* equal pieces of 32..63 words */
        const int32_t len = kw / ((kw + BNN_OPT_HS_MAX - 1) / BNN_OPT_HS_MAX);
        hs_piece(x, f, len, 1, &r);
        acc += r;
        x += len;
        f += len;
        kw -= len;
    }
    hs_piece(x, f, kw, 1, &r);
    return acc + r;
}
#endif /* BNN_OPT_HS */
