/**
 * @file bnn_popcount_opt.h
 * @brief Popcount building blocks of the optimized binary kernels (internal, static inline).
 *
 * Cortex-M has no popcount instruction and __builtin_popcount calls a libgcc loop, so the
 * kernels count bits with SWAR arithmetic and never need the count of a single word: they
 * keep BYTE-FIELD accumulators (four 8-bit partial counts in one uint32_t) and reduce them to
 * an integer once per run of words (bnn_opt_hsum). Per group of three XOR-ed words a
 * carry-save adder (Harley-Seal's CSA) first turns three words into "ones" and "twos":
 *
 *   1. u = a ^ b; ones = u ^ c; twos = (a & b) | (u & c)
 *      (per bit position: a + b + c = ones + 2 * twos, a full adder)
 *   2. 2-bit fields:  v - ((v >> 1) & 0x55..)                         each field <= 2
 *   3. 4-bit fields:  (v & 0x33..) + ((v >> 2) & 0x33..)              each field <= 4
 *   4. s = ones4 + 2 * twos4                                          each nibble <= 12
 *   5. bytes: (s & 0x0F..) + ((s >> 4) & 0x0F..)                      each byte  <= 24
 *
 * so three words cost 5 (CSA) + 2 * 5 (fields) + 1 + 3 + 1 (accumulate) = 20 ALU
 * instructions instead of 3 * 8. A byte field holds at most 255, i.e. 10 groups (30 words):
 * callers flush runs of at most BNN_OPT_RUN_MAX words.
 *
 * bnn_opt_hsum adds the four bytes: one USADA8 on cores with the DSP extension (M4/M7/M33/
 * M55), shifts and masks elsewhere.
 *
 * Cortex-M0 (Thumb-1: two-operand ALU, no shifted operands, 8 low registers) may count with
 * a 256-entry byte table instead (BNN_OPT_POPCOUNT_LUT); the default for each core was picked
 * by QEMU instruction counts (tests/firmware_opt, `bnn-lq bench mcu`).
 */
#ifndef BNN_POPCOUNT_OPT_H
#define BNN_POPCOUNT_OPT_H

#include <stdint.h>

#if defined(__GNUC__)
#define BNN_OPT_INLINE static inline __attribute__((always_inline))
#else
#define BNN_OPT_INLINE static inline
#endif

/** Longest run of words one byte-field accumulator may take (10 groups of <= 24 per byte). */
#define BNN_OPT_RUN_MAX 30

/* Byte-table popcount: default off everywhere (SWAR measured faster, also on the M0);
 * -DBNN_OPT_POPCOUNT_LUT=1 selects it for comparison. */
#ifndef BNN_OPT_POPCOUNT_LUT
#define BNN_OPT_POPCOUNT_LUT 0
#endif

#if BNN_OPT_POPCOUNT_LUT
typedef int bnn_opt_masks_t; /* unused by the table */
BNN_OPT_INLINE bnn_opt_masks_t bnn_opt_masks(void)
{
    return 0;
}
/** popcount of every byte value. */
extern const uint8_t bnn_opt_popcount_table[256];

/** Byte fields of one word: here the plain count in the low byte (the table gives ints). */
BNN_OPT_INLINE uint32_t bnn_opt_pc1(uint32_t a, bnn_opt_masks_t m)
{
    (void)m;
    return (uint32_t)bnn_opt_popcount_table[a & 0xFFu] + bnn_opt_popcount_table[(a >> 8) & 0xFFu]
           + bnn_opt_popcount_table[(a >> 16) & 0xFFu] + bnn_opt_popcount_table[a >> 24];
}
BNN_OPT_INLINE uint32_t bnn_opt_pc2(uint32_t a, uint32_t b, bnn_opt_masks_t m)
{
    return bnn_opt_pc1(a, m) + bnn_opt_pc1(b, m);
}
BNN_OPT_INLINE uint32_t bnn_opt_pc3(uint32_t a, uint32_t b, uint32_t c, bnn_opt_masks_t m)
{
    return bnn_opt_pc1(a, m) + bnn_opt_pc1(b, m) + bnn_opt_pc1(c, m);
}
/** The accumulator already holds an integer count. */
BNN_OPT_INLINE int32_t bnn_opt_hsum(uint32_t v)
{
    return (int32_t)v;
}
#else
/*
 * The three SWAR masks. On Thumb-2 they are hidden from the optimizer behind an empty asm so
 * they stay in registers: then "(v >> 1) & m" is ONE instruction (AND with a shifted register
 * operand) instead of a shift plus an AND with an immediate; measured 20% fewer instructions
 * in the popcount. Elsewhere they are plain constants.
 */
typedef struct {
    uint32_t m1, m2, m4;
} bnn_opt_masks_t;

#if defined(__thumb2__)
BNN_OPT_INLINE bnn_opt_masks_t bnn_opt_masks(void)
{
    bnn_opt_masks_t m;
    m.m1 = 0x55555555u;
    m.m2 = 0x33333333u;
    m.m4 = 0x0F0F0F0Fu;
    __asm__("" : "+r"(m.m1), "+r"(m.m2), "+r"(m.m4));
    return m;
}
#else
BNN_OPT_INLINE bnn_opt_masks_t bnn_opt_masks(void)
{
    bnn_opt_masks_t m;
    m.m1 = 0x55555555u;
    m.m2 = 0x33333333u;
    m.m4 = 0x0F0F0F0Fu;
    return m;
}
#endif

/** Byte fields (each <= 8) of popcount(a). */
BNN_OPT_INLINE uint32_t bnn_opt_pc1(uint32_t a, bnn_opt_masks_t m)
{
    a = a - ((a >> 1) & m.m1);
    a = (a & m.m2) + ((a >> 2) & m.m2);
    return (a + (a >> 4)) & m.m4; /* nibble sums <= 8: no carry out of a nibble */
}

/** Byte fields (each <= 16) of popcount(a) + popcount(b). */
BNN_OPT_INLINE uint32_t bnn_opt_pc2(uint32_t a, uint32_t b, bnn_opt_masks_t m)
{
    uint32_t s;
    a = a - ((a >> 1) & m.m1);
    b = b - ((b >> 1) & m.m1);
    s = (a & m.m2) + ((a >> 2) & m.m2) + (b & m.m2) + ((b >> 2) & m.m2); /* nibbles <= 8 */
    return (s & m.m4) + ((s >> 4) & m.m4);
}

/** Byte fields (each <= 24) of popcount(a) + popcount(b) + popcount(c) (CSA, see above). */
BNN_OPT_INLINE uint32_t bnn_opt_pc3(uint32_t a, uint32_t b, uint32_t c, bnn_opt_masks_t m)
{
    const uint32_t u = a ^ b;
    uint32_t ones = u ^ c;
    uint32_t twos = (a & b) | (u & c);
    uint32_t s;
    ones = ones - ((ones >> 1) & m.m1);
    twos = twos - ((twos >> 1) & m.m1);
    ones = (ones & m.m2) + ((ones >> 2) & m.m2);
    twos = (twos & m.m2) + ((twos >> 2) & m.m2);
    s = ones + (twos << 1); /* nibbles <= 4 + 8 */
    return (s & m.m4) + ((s >> 4) & m.m4);
}

#if defined(__ARM_FEATURE_SIMD32) && __ARM_FEATURE_SIMD32
/** Sum of the four byte fields: USADA8 (sum of absolute byte differences against 0). */
BNN_OPT_INLINE int32_t bnn_opt_hsum(uint32_t v)
{
    uint32_t r;
    __asm__("usad8 %0, %1, %2" : "=r"(r) : "r"(v), "r"(0u));
    return (int32_t)r;
}
#else
/** Sum of the four byte fields (each <= 255). */
BNN_OPT_INLINE int32_t bnn_opt_hsum(uint32_t v)
{
    v = (v & 0x00FF00FFu) + ((v >> 8) & 0x00FF00FFu);
    return (int32_t)((v + (v >> 16)) & 0xFFFFu);
}
#endif
#endif /* BNN_OPT_POPCOUNT_LUT */

/*
 * Helium (M-profile Vector Extension, integer; Cortex-M55). MVE has no popcount instruction
 * (no VCNT), so the SWAR steps above run on four 32-bit lanes at once, each lane a separate
 * count (a filter, or a segment of one). Words come from GATHER loads (VLDRW.U32 Qd, [Qm,
 * #imm]): lane l of step k reads the word at byte address a[l] + 4 k, so four filters (or four
 * segments) that lie kw words apart need no transposition, and the x side is the same
 * address in every lane (one patch word broadcast). Per NINE steps a carry-save adder tree
 * (five full adders, as bnn_opt_pc9 of bnn_bdot_opt.h) leaves o (weight 1), t and tc
 * (weight 2), fo (weight 4); their bits become fields with three instructions per step, as
 * VMLA with a scalar folds the "add the masked high half" into one:
 *   2-bit:  v - ((v >> 1) & 0x55..)                 each field <= 2
 *   nibble: v + (-3) * ((v >> 2) & 0x33..)           = lo + hi, each field <= 4
 *   a = o + 2 tc, b = t + 2 fo                       nibbles <= 12 (VMLA)
 *   bytes:  v + (-15) * (v >>u8 4)                   = lo + hi per byte (8-bit lanes)
 *   a8 + 2 b8                                        bytes <= 72
 * Byte fields of up to 27 steps (<= 216) add up before bnn_opt_mve_lanesum turns them into
 * a 32-bit count per lane (the same VMLA trick on 16-bit, then 32-bit lanes). All of it is
 * exact integer arithmetic on fields that cannot overflow, so the counts equal the
 * reference's popcounts bit for bit.
 */
#if !BNN_OPT_POPCOUNT_LUT && defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define BNN_OPT_MVE 1
#include <arm_mve.h>

/** Steps (words per lane) one byte-field accumulator takes: 27 * 8 = 216 <= 255. */
#define BNN_OPT_MVE_RUN_MAX 27

/*
 * A mask vector (VDUP of a scalar). The empty volatile asm keeps GCC from hoisting the
 * vector out of the loops (it would spill it to the stack: two instructions per reload
 * instead of the one VDUP).
 */
BNN_OPT_INLINE uint32x4_t bnn_opt_mve_mask(uint32_t k)
{
    __asm__ volatile("" : "+r"(k));
    return vdupq_n_u32(k);
}

/** Nibble fields (each <= 4) of the ones of every lane of v. */
BNN_OPT_INLINE uint32x4_t bnn_opt_mve_nib(uint32x4_t v, uint32x4_t m1, uint32x4_t m2)
{
    v = vsubq_u32(v, vandq_u32(vshrq_n_u32(v, 1), m1));
    return vmlaq_n_u32(v, vandq_u32(vshrq_n_u32(v, 2), m2), 0xFFFFFFFDu); /* v - 3 hi */
}

/** Byte fields (lo + hi, each <= 30) of nibble fields v (each <= 15). */
BNN_OPT_INLINE uint8x16_t bnn_opt_mve_bytes(uint32x4_t v)
{
    const uint8x16_t s = vreinterpretq_u8_u32(v);
    return vmlaq_n_u8(s, vshrq_n_u8(s, 4), (uint8_t)241u); /* s - 15 hi (mod 256) */
}

/** Full adder per bit: a + b + c = ones + 2 twos. */
#define BNN_OPT_MVE_FA(a, b, c, ones, twos)                                                      \
    do {                                                                                        \
        const uint32x4_t u_ = veorq_u32((a), (b));                                               \
        (twos) = vorrq_u32(vandq_u32((a), (b)), vandq_u32(u_, (c)));                            \
        (ones) = veorq_u32(u_, (c));                                                            \
    } while (0)

/** x ^ f of step k (k a constant: the gathers' immediate offset 4 k). */
#define BNN_OPT_MVE_LD(xa, fa, k)                                                                \
    veorq_u32(vldrwq_gather_base_u32((xa), 4 * (k)), vldrwq_gather_base_u32((fa), 4 * (k)))

/** Byte fields (each <= 72) per lane of popcount(x ^ f) over steps 0..8 of xa, fa. */
BNN_OPT_INLINE uint8x16_t bnn_opt_mve_pc9(uint32x4_t xa, uint32x4_t fa)
{
    uint32x4_t o1, t1, o2, t2, o, tx, t, fo, tc, a, b;
    uint32x4_t m1, m2;
    BNN_OPT_MVE_FA(BNN_OPT_MVE_LD(xa, fa, 0), BNN_OPT_MVE_LD(xa, fa, 1),
                   BNN_OPT_MVE_LD(xa, fa, 2), o1, t1);
    BNN_OPT_MVE_FA(BNN_OPT_MVE_LD(xa, fa, 3), BNN_OPT_MVE_LD(xa, fa, 4),
                   BNN_OPT_MVE_LD(xa, fa, 5), o2, t2);
    BNN_OPT_MVE_FA(o1, o2, BNN_OPT_MVE_LD(xa, fa, 6), o, tx);
    BNN_OPT_MVE_FA(t1, t2, tx, t, fo);
    BNN_OPT_MVE_FA(o, BNN_OPT_MVE_LD(xa, fa, 7), BNN_OPT_MVE_LD(xa, fa, 8), o, tc);
    m1 = bnn_opt_mve_mask(0x55555555u);
    m2 = bnn_opt_mve_mask(0x33333333u);
    a = vmlaq_n_u32(bnn_opt_mve_nib(o, m1, m2), bnn_opt_mve_nib(tc, m1, m2), 2u);
    b = vmlaq_n_u32(bnn_opt_mve_nib(t, m1, m2), bnn_opt_mve_nib(fo, m1, m2), 2u);
    return vreinterpretq_u8_u32(vmlaq_n_u32(vreinterpretq_u32_u8(bnn_opt_mve_bytes(a)),
                                            vreinterpretq_u32_u8(bnn_opt_mve_bytes(b)), 2u));
}

/** Byte fields (each <= 24) per lane of popcount(a) + popcount(b) + popcount(c). */
BNN_OPT_INLINE uint8x16_t bnn_opt_mve_pc3(uint32x4_t a, uint32x4_t b, uint32x4_t c)
{
    const uint32x4_t m1 = bnn_opt_mve_mask(0x55555555u), m2 = bnn_opt_mve_mask(0x33333333u);
    uint32x4_t ones, twos;
    BNN_OPT_MVE_FA(a, b, c, ones, twos);
    return bnn_opt_mve_bytes(
        vmlaq_n_u32(bnn_opt_mve_nib(ones, m1, m2), bnn_opt_mve_nib(twos, m1, m2), 2u));
}

/** Per 32-bit lane: the sum of its four byte fields (each <= 255). */
BNN_OPT_INLINE uint32x4_t bnn_opt_mve_lanesum(uint8x16_t v)
{
    uint16x8_t h = vreinterpretq_u16_u8(v);
    uint32x4_t w;
    h = vmlaq_n_u16(h, vshrq_n_u16(h, 8), (uint16_t)0xFF01u); /* lo + 256 hi - 255 hi */
    w = vreinterpretq_u32_u16(h);
    return vmlaq_n_u32(w, vshrq_n_u32(w, 16), 0xFFFF0001u); /* lo + 65536 hi - 65535 hi */
}

/**
 * Per lane l: popcount(x ^ f) over the n >= 0 words at byte addresses xa[l] + 4 k and
 * fa[l] + 4 k, k < n (blocks of nine steps, then threes, then one or two).
 */
BNN_OPT_INLINE uint32x4_t bnn_opt_mve_lanes(uint32x4_t xa, uint32x4_t fa, int32_t n)
{
    const uint32x4_t zero = vdupq_n_u32(0u);
    uint32x4_t cnt = zero;
    while (n > 0) {
        int32_t r = n < BNN_OPT_MVE_RUN_MAX ? n : BNN_OPT_MVE_RUN_MAX;
        uint8x16_t s = vdupq_n_u8(0u);
        n -= r;
        for (; r >= 9; r -= 9) {
            s = vaddq_u8(s, bnn_opt_mve_pc9(xa, fa));
            xa = vaddq_n_u32(xa, 36u);
            fa = vaddq_n_u32(fa, 36u);
        }
        for (; r >= 3; r -= 3) {
            s = vaddq_u8(s, bnn_opt_mve_pc3(BNN_OPT_MVE_LD(xa, fa, 0), BNN_OPT_MVE_LD(xa, fa, 1),
                                            BNN_OPT_MVE_LD(xa, fa, 2)));
            xa = vaddq_n_u32(xa, 12u);
            fa = vaddq_n_u32(fa, 12u);
        }
        if (r == 2) { /* the last run (27 is a multiple of 9) */
            s = vaddq_u8(s, bnn_opt_mve_pc3(BNN_OPT_MVE_LD(xa, fa, 0), BNN_OPT_MVE_LD(xa, fa, 1),
                                            zero));
        } else if (r == 1) {
            s = vaddq_u8(s, bnn_opt_mve_pc3(BNN_OPT_MVE_LD(xa, fa, 0), zero, zero));
        }
        cnt = vaddq_u32(cnt, bnn_opt_mve_lanesum(s));
    }
    return cnt;
}

/** Byte address of p in every lane. */
BNN_OPT_INLINE uint32x4_t bnn_opt_mve_addr(const uint32_t *p)
{
    return vdupq_n_u32((uint32_t)(uintptr_t)p);
}

/** Byte addresses p, p + step, p + 2 step, p + 3 step (step in words). */
BNN_OPT_INLINE uint32x4_t bnn_opt_mve_addr4(const uint32_t *p, int32_t step)
{
    return vmlaq_n_u32(bnn_opt_mve_addr(p), vidupq_n_u32(0u, 1), 4u * (uint32_t)step);
}
#else
#define BNN_OPT_MVE 0
#endif

#endif /* BNN_POPCOUNT_OPT_H */
