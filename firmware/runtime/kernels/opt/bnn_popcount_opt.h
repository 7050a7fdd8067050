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
/** popcount of every byte value. */
extern const uint8_t bnn_opt_popcount_table[256];

/** Byte fields of one word: here the plain count in the low byte (the table gives ints). */
BNN_OPT_INLINE uint32_t bnn_opt_pc1(uint32_t a)
{
    return (uint32_t)bnn_opt_popcount_table[a & 0xFFu] + bnn_opt_popcount_table[(a >> 8) & 0xFFu]
           + bnn_opt_popcount_table[(a >> 16) & 0xFFu] + bnn_opt_popcount_table[a >> 24];
}
BNN_OPT_INLINE uint32_t bnn_opt_pc2(uint32_t a, uint32_t b)
{
    return bnn_opt_pc1(a) + bnn_opt_pc1(b);
}
BNN_OPT_INLINE uint32_t bnn_opt_pc3(uint32_t a, uint32_t b, uint32_t c)
{
    return bnn_opt_pc1(a) + bnn_opt_pc1(b) + bnn_opt_pc1(c);
}
/** The accumulator already holds an integer count. */
BNN_OPT_INLINE int32_t bnn_opt_hsum(uint32_t v)
{
    return (int32_t)v;
}
#else
/** Byte fields (each <= 8) of popcount(a). */
BNN_OPT_INLINE uint32_t bnn_opt_pc1(uint32_t a)
{
    a = a - ((a >> 1) & 0x55555555u);
    a = (a & 0x33333333u) + ((a >> 2) & 0x33333333u);
    return (a + (a >> 4)) & 0x0F0F0F0Fu; /* nibble sums <= 8: no carry out of a nibble */
}

/** Byte fields (each <= 16) of popcount(a) + popcount(b). */
BNN_OPT_INLINE uint32_t bnn_opt_pc2(uint32_t a, uint32_t b)
{
    uint32_t s;
    a = a - ((a >> 1) & 0x55555555u);
    b = b - ((b >> 1) & 0x55555555u);
    s = (a & 0x33333333u) + ((a >> 2) & 0x33333333u) + (b & 0x33333333u)
        + ((b >> 2) & 0x33333333u); /* nibbles <= 8 */
    return (s & 0x0F0F0F0Fu) + ((s >> 4) & 0x0F0F0F0Fu);
}

/** Byte fields (each <= 24) of popcount(a) + popcount(b) + popcount(c) (CSA, see above). */
BNN_OPT_INLINE uint32_t bnn_opt_pc3(uint32_t a, uint32_t b, uint32_t c)
{
    const uint32_t u = a ^ b;
    uint32_t ones = u ^ c;
    uint32_t twos = (a & b) | (u & c);
    uint32_t s;
    ones = ones - ((ones >> 1) & 0x55555555u);
    twos = twos - ((twos >> 1) & 0x55555555u);
    ones = (ones & 0x33333333u) + ((ones >> 2) & 0x33333333u);
    twos = (twos & 0x33333333u) + ((twos >> 2) & 0x33333333u);
    s = ones + (twos << 1); /* nibbles <= 4 + 8 */
    return (s & 0x0F0F0F0Fu) + ((s >> 4) & 0x0F0F0F0Fu);
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
