/**
 * @file bnn_bdot_opt.h
 * @brief Binary dot products and small helpers shared by the optimized binary kernels
 *        (bnn_bconv2d_opt, bnn_conv2d_pool_quantize_opt); internal, not public API.
 *
 * bnn_opt_dot{1,2,4}(x, f, kw, ...) return popcount(x ^ f_b) over kw words for 1, 2 or 4
 * filters f_b = f + b * kw that share the input x; bnn_opt_dot_many does it for n filters of
 * one pixel. Generic builds: out-of-line functions (bnn_bdot_opt.c), so the register
 * allocator sees only the loop and nothing of the caller spills into it. ARMv7-M/8-M
 * Mainline: static inline, around an assembly adder tree for nine words (see below), and
 * bnn_opt_gt_msb for the packed-output compare of bnn_bconv2d_opt. Cortex-M55 with integer
 * Helium (BNN_OPT_MVE, bnn_popcount_opt.h): out-of-line too, four lanes of gathered words
 * per step (bnn_bdot_opt.c; measured on mps3-an547, bnn_cnn_small: 4.17 M -> 1.76 M
 * instructions per inference).
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
 * Cortex-M55 with MVE, which GCC otherwise reports as 8-M Mainline; the byte-table build)
 * uses the out-of-line functions of bnn_bdot_opt.c (their Helium versions with MVE).
 */
#if !BNN_OPT_POPCOUNT_LUT && !defined(__ARM_FEATURE_MVE)                                 \
    && (defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__))
#define BNN_OPT_DOT_INLINE 1
#else
#define BNN_OPT_DOT_INLINE 0
#define BNN_OPT_HS 0
#endif

#if BNN_OPT_DOT_INLINE
/*
 * Byte fields (each <= 72) of popcount(x[i] ^ f[i]) over i < 9 with f = *fp; advances
 * *fp by 9. Three full adders (a + b + c = ones + 2 twos per bit) on the word triples
 * give ones o1..o3 and twos t1..t3; two more give o (weight 1), t4 and t
 * (weight 2) and fo (weight 4). Per bit: sum = o + 2 * (t4 + t) + 4 * fo. Fields:
 * a = nib(o) + 2 nib(t4) <= 12 and b = nib(t) + 2 nib(fo) <= 12 per nibble, then bytes
 * a8 + 2 b8 <= 24 + 48.
 * In assembly because GCC loads the 18 words one by one and spills around the adder tree;
 * here: 10 loads (LDRD), 9 XOR, 25 adder, 3 mask and 30 field instructions, 8 scratch
 * registers. The masks are loaded only after the tree (MOV of a replicated immediate) so
 * they take no register during it, and "(v >> k) & m" is then one AND with a shifted operand.
 */
BNN_OPT_INLINE uint32_t bnn_opt_pc9(const uint32_t *x, const uint32_t **fp)
{
    const uint32_t *f = *fp;
    uint32_t a1, b1, a2, b2, a3, b3, c, d;
    __asm__(
        /* word triple g: a, b, c = x ^ f; full adder -> twos in a, ones in b */
        "ldrd  %[a1], %[b1], [%[x], #0]\n\t"
        "ldrd  %[c], %[d], [%[f]], #36\n\t" /* f advances to the next filter */
        "eor   %[a1], %[a1], %[c]\n\t"
        "eor   %[b1], %[b1], %[d]\n\t"
        "ldr   %[c], [%[x], #8]\n\t"
        "ldr   %[d], [%[f], #-28]\n\t"
        "eor   %[c], %[c], %[d]\n\t"
        "eor   %[d], %[a1], %[b1]\n\t"
        "and   %[a1], %[a1], %[b1]\n\t"
        "eor   %[b1], %[d], %[c]\n\t"
        "and   %[d], %[d], %[c]\n\t"
        "orr   %[a1], %[a1], %[d]\n\t"
        "ldrd  %[a2], %[b2], [%[x], #12]\n\t"
        "ldrd  %[c], %[d], [%[f], #-24]\n\t"
        "eor   %[a2], %[a2], %[c]\n\t"
        "eor   %[b2], %[b2], %[d]\n\t"
        "ldr   %[c], [%[x], #20]\n\t"
        "ldr   %[d], [%[f], #-16]\n\t"
        "eor   %[c], %[c], %[d]\n\t"
        "eor   %[d], %[a2], %[b2]\n\t"
        "and   %[a2], %[a2], %[b2]\n\t"
        "eor   %[b2], %[d], %[c]\n\t"
        "and   %[d], %[d], %[c]\n\t"
        "orr   %[a2], %[a2], %[d]\n\t"
        "ldrd  %[a3], %[b3], [%[x], #24]\n\t"
        "ldrd  %[c], %[d], [%[f], #-12]\n\t"
        "eor   %[a3], %[a3], %[c]\n\t"
        "eor   %[b3], %[b3], %[d]\n\t"
        "ldr   %[c], [%[x], #32]\n\t"
        "ldr   %[d], [%[f], #-4]\n\t"
        "eor   %[c], %[c], %[d]\n\t"
        "eor   %[d], %[a3], %[b3]\n\t"
        "and   %[a3], %[a3], %[b3]\n\t"
        "eor   %[b3], %[d], %[c]\n\t"
        "and   %[d], %[d], %[c]\n\t"
        "orr   %[a3], %[a3], %[d]\n\t"
        /* ones b1, b2, b3 -> o in b2, t4 in b1 */
        "eor   %[c], %[b1], %[b2]\n\t"
        "and   %[b1], %[b1], %[b2]\n\t"
        "eor   %[b2], %[c], %[b3]\n\t"
        "and   %[c], %[c], %[b3]\n\t"
        "orr   %[b1], %[b1], %[c]\n\t"
        /* twos a1, a2, a3 -> t in a2, fo in a1 */
        "eor   %[c], %[a1], %[a2]\n\t"
        "and   %[a1], %[a1], %[a2]\n\t"
        "eor   %[a2], %[c], %[a3]\n\t"
        "and   %[c], %[c], %[a3]\n\t"
        "orr   %[a1], %[a1], %[c]\n\t"
        /* masks: c = 0x55.., d = 0x33.., a3 = 0x0F..; b3 is the scratch */
        "mov   %[c], #0x55555555\n\t"
        "mov   %[d], #0x33333333\n\t"
        "mov   %[a3], #0x0F0F0F0F\n\t"
        /* nibble fields of b2 (o), b1 (t4), a2 (t), a1 (fo) */
        "and   %[b3], %[c], %[b2], lsr #1\n\t"
        "sub   %[b2], %[b2], %[b3]\n\t"
        "and   %[b3], %[d], %[b2], lsr #2\n\t"
        "and   %[b2], %[b2], %[d]\n\t"
        "add   %[b2], %[b2], %[b3]\n\t"
        "and   %[b3], %[c], %[b1], lsr #1\n\t"
        "sub   %[b1], %[b1], %[b3]\n\t"
        "and   %[b3], %[d], %[b1], lsr #2\n\t"
        "and   %[b1], %[b1], %[d]\n\t"
        "add   %[b1], %[b1], %[b3]\n\t"
        "and   %[b3], %[c], %[a2], lsr #1\n\t"
        "sub   %[a2], %[a2], %[b3]\n\t"
        "and   %[b3], %[d], %[a2], lsr #2\n\t"
        "and   %[a2], %[a2], %[d]\n\t"
        "add   %[a2], %[a2], %[b3]\n\t"
        "and   %[b3], %[c], %[a1], lsr #1\n\t"
        "sub   %[a1], %[a1], %[b3]\n\t"
        "and   %[b3], %[d], %[a1], lsr #2\n\t"
        "and   %[a1], %[a1], %[d]\n\t"
        "add   %[a1], %[a1], %[b3]\n\t"
        /* a = o + 2 t4, b = t + 2 fo (nibbles <= 12), then bytes, a8 + 2 b8 */
        "add   %[b2], %[b2], %[b1], lsl #1\n\t"
        "add   %[a2], %[a2], %[a1], lsl #1\n\t"
        "and   %[b3], %[a3], %[b2], lsr #4\n\t"
        "and   %[b2], %[b2], %[a3]\n\t"
        "add   %[b2], %[b2], %[b3]\n\t"
        "and   %[b3], %[a3], %[a2], lsr #4\n\t"
        "and   %[a2], %[a2], %[a3]\n\t"
        "add   %[a2], %[a2], %[b3]\n\t"
        "add   %[b2], %[b2], %[a2], lsl #1"
        : [a1] "=&r"(a1), [b1] "=&r"(b1), [a2] "=&r"(a2), [b2] "=&r"(b2), [a3] "=&r"(a3),
          [b3] "=&r"(b3), [c] "=&r"(c), [d] "=&r"(d)
          , [f] "+r"(f)
        : [x] "r"(x), "m"(*(const uint32_t(*)[9])x), "m"(*(const uint32_t(*)[9])f));
    *fp = f;
    return b2;
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

/*
 * Long rows (kw >= BNN_OPT_HS_MIN words except 18; dense layers such as 1152 -> 128, kw =
 * 36): Harley-Seal. Chunks of nine convert all four outputs of every tree to byte fields
 * (33 of the 77 instructions of bnn_opt_pc9, ~8.7 per word with the USADA8). Here the carry-
 * save planes o, t, q (weights 1, 2, 4; registers) and e, s, z (8, 16, 32; in the frame) live
 * across the whole row, so a word costs only its share of the adders: per 16 words LDM 4 + 4
 * (8), EOR (16), 15 full adders (75: weight 1, 2, 4, 8 carries), the half adders of s and z
 * (3), one LDM + STM of e s z + a spill (3) and the loop (2): 107, 6.7 per word. The planes
 * become a count once per row: nibble fields of the six planes (30), weighted into bytes (<=
 * 252: 13), USAD8 + USADA8, masks: 49. Words beyond a multiple of 16 come first (0-3 single
 * words, then 0-3 groups of four into zero planes). Measured per filter (QEMU -icount,
 * netduinoplus2, 16 filters): kw 16: 178 (pc9: 208), kw 24: 214 (pc9 ~270), kw 36: 297 (pc9
 * ~350). Exact: each plane holds one bit of the per-position count, and z takes no carry as
 * long as a run has <= 63 words, so longer rows are summed over pieces of 32..63 words
 * (bnn_opt_dot_long). kw == 36 (dense 1152 -> N, and 36-word pieces) has a kernel of its own
 * (bnn_bdot_opt.c): every plane in registers or one LDM away, masks as immediates, the rare
 * weight-32 plane counted only when set: ~260 per filter (random data; +7 when some bit
 * position differs in >= 32 words), fc1 of bnn_cnn_small 39,750 -> 35,881 instructions.
 */
#define BNN_OPT_HS 1
#define BNN_OPT_HS_MIN 16
#define BNN_OPT_HS_MAX 63
/**
 * acc[b] = popcount(x ^ (f + b * kw)) over kw words for the n >= 1 consecutive filters b < n,
 * 16 <= kw <= BNN_OPT_HS_MAX (assembly, bnn_bdot_opt.c).
 */
void bnn_opt_hs_many(const uint32_t *x, const uint32_t *f, int32_t kw, int32_t n, int32_t *acc);
/** popcount(x ^ f) over kw >= 16 words (bnn_opt_hs_many on pieces of <= BNN_OPT_HS_MAX). */
int32_t bnn_opt_dot_long(const uint32_t *x, const uint32_t *f, int32_t kw);

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
/**
 * Bit 31 set iff cnt > th (signed), for cnt >= 0 (packed output; other bits: garbage). One
 * QSUB: th - cnt saturated at INT32_MIN keeps its sign also for th near INT32_MIN (the
 * converter's "always 1"), where the wrapping difference would turn positive.
 */
BNN_OPT_INLINE uint32_t bnn_opt_gt_msb(int32_t cnt, int32_t th)
{
    int32_t d;
    __asm__("qsub %0, %1, %2" : "=r"(d) : "r"(th), "r"(cnt));
    return (uint32_t)d;
}
#else
/** Bit 31 set iff cnt > th (signed); other bits 0 (Cortex-M3: no QSUB). */
BNN_OPT_INLINE uint32_t bnn_opt_gt_msb(int32_t cnt, int32_t th)
{
    return (uint32_t)(cnt > th) << 31;
}
#endif

/** popcount(x ^ f0) over kw >= 0 words in chunks of nine (bnn_opt_pc9). */
BNN_OPT_INLINE int32_t bnn_opt_dot1_pc9(const uint32_t *x, const uint32_t *f0, int32_t kw)
{
    const bnn_opt_masks_t m = bnn_opt_masks();
    int32_t acc = 0;
    for (; kw >= 9; kw -= 9, x += 9) {
        acc = bnn_opt_hsum_acc(acc, bnn_opt_pc9(x, &f0));
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

/** popcount(x ^ f0) over kw >= 0 words. */
BNN_OPT_INLINE int32_t bnn_opt_dot1(const uint32_t *x, const uint32_t *f0, int32_t kw)
{
    if (kw >= BNN_OPT_HS_MIN && kw != 18) { /* Harley-Seal (out of line); 18: two trees */
        return bnn_opt_dot_long(x, f0, kw);
    }
    return bnn_opt_dot1_pc9(x, f0, kw);
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

/**
 * acc[b] = popcount(x ^ (f + b * kw)) over kw >= 0 words, for the n >= 0 consecutive filters
 * b < n of one pixel (out of line: one call per pixel and chunk of channels).
 */
void bnn_opt_dot_many(const uint32_t *x, const uint32_t *f, int32_t kw, int32_t n, int32_t *acc);

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
