/**
 * @file bnn_bslice_opt.h
 * @brief Bit-sliced binary dot products for a block of up to 32 filters (internal).
 *
 * Why: without a popcount instruction, counting the bits of x ^ f costs about eight
 * instructions per word and FILTER (XOR, carry-save adders, field arithmetic), so a 3x3x32
 * convolution reaches about 3 binary MACs per instruction on a Cortex-M4. Here the filters
 * of a block are transposed once per call into "lane words": T[j] holds bit j of each of the
 * block's 32 filters (filter l in bit l). For one input patch x (kw words, 32 kw bits j):
 *
 *   count_l = sum_j (x_j ^ f_lj) = n1 + P_l - 2 V1_l = n1 - P_l + 2 V0_l
 *
 * with n1 = popcount(x), P_l = popcount(f_l), V1 = sum of T[j] over the set bits of x and
 * V0 = the sum over its clear bits. Whichever set is smaller (at most 16 kw bits) is summed:
 * every selected bit adds ONE lane word into a bit-sliced counter (32 lanes at once, a
 * carry-save adder tree: about five instructions per word for all 32 filters), and bits
 * outside the set cost nothing. Finding the next selected bit is a CLZ, so this is for
 * cores with CLZ (ARMv7-M and up, and the host), not for the Cortex-M0.
 *
 * Output: for per-lane integer bounds U_l, bit l of the result is count_l >= U_l, computed
 * without unpacking the counter: the counter starts at a per-lane constant chosen so that
 * its sign plane after the sum IS the answer (see bnn_bslice_ge). All integer, exact: the
 * bits equal the comparisons of the reference's popcounts.
 */
#ifndef BNN_BSLICE_OPT_H
#define BNN_BSLICE_OPT_H

#include <stdint.h>

/* Where the bit-sliced path is built: Thumb-2 cores without Helium (M3/M4/M7/M33) and
 * non-ARM hosts (the host build tests it). Cortex-M0 has no CLZ; the M55's Helium dot
 * products are faster there. -DBNN_OPT_BSLICE=0/1 overrides. */
#ifndef BNN_OPT_BSLICE
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define BNN_OPT_BSLICE 0
#elif defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__)
#define BNN_OPT_BSLICE 1
#elif defined(__arm__) || defined(__thumb__)
#define BNN_OPT_BSLICE 0
#else
#define BNN_OPT_BSLICE 1
#endif
#endif

/** Longest filter (words) the bit-sliced path takes: its lane words live on the stack
 * (32 words per filter word: 2,304 bytes at 18). */
#ifndef BNN_BSLICE_MAX_KW
#define BNN_BSLICE_MAX_KW 18
#endif

/* 1: the C sum loop also on Thumb-2 (for comparison). */
#ifndef BNN_BSLICE_PORTABLE
#define BNN_BSLICE_PORTABLE 0
#endif

/** Planes of the counter: sign + magnitude of values in [-(32 kw + 1), 32 kw]. */
#define BNN_BSLICE_MAX_PLANES 16

/** One block of filters, prepared by bnn_bslice_setup. */
typedef struct {
    uint32_t lanes[32 * (BNN_BSLICE_MAX_KW + 1)]; /* lanes[32 w + k]: bit 31 - k of word w;
                                                    then 32 zero words */
    /* Start values of the counter (planes, bit l = lane l), by case and n1 & 1:
     * start[0][r]: sum over set bits, start[1][r]: sum over clear bits. */
    uint32_t start[2][2][BNN_BSLICE_MAX_PLANES];
    uint32_t valid; /* lanes in use */
    int32_t kw, planes;
} bnn_bslice_t;

/**
 * Prepares filters f_l = filter + l * kw, l < nc <= 32 (kw <= BNN_BSLICE_MAX_KW words each)
 * for bounds u[l]: afterwards bnn_bslice_ge gives bit l = (popcount(x ^ f_l) >= u[l]).
 * Any int32 bound is allowed (u <= 0: always 1, u > 32 kw: always 0).
 */
void bnn_bslice_setup(bnn_bslice_t *bs, const uint32_t *filter, int32_t kw, int32_t nc,
                      const int32_t *u);

/** Bit l (l < nc) = popcount(x ^ f_l) >= u[l] over the kw words of x; other bits 0.
 * x has room for kw + 1 words: x[kw] is overwritten (the sum loop's padding word). */
uint32_t bnn_bslice_ge(const bnn_bslice_t *bs, uint32_t *x);

/** bnn_bslice_ge for a caller that knows n1 = popcount of x's kw words (from per-pixel
 * counts: a patch's count is the sum of its taps' pixels'). */
uint32_t bnn_bslice_ge_n1(const bnn_bslice_t *bs, uint32_t *x, int32_t n1);

/** Pixels (at most BNN_BSLICE_POP_PIXELS) whose counts a kernel keeps on its stack. */
#ifndef BNN_BSLICE_POP_PIXELS
#define BNN_BSLICE_POP_PIXELS 256
#endif

/** pop[i] = popcount of the `words` words of pixel i of in, i < pixels. */
void bnn_bslice_pixel_counts(const uint32_t *in, int32_t pixels, int32_t words, uint16_t *pop);

#endif /* BNN_BSLICE_OPT_H */
