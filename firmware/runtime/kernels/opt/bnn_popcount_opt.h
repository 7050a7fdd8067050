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

#endif /* BNN_POPCOUNT_OPT_H */
