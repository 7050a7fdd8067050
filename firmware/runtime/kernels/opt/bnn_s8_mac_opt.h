/**
 * @file bnn_s8_mac_opt.h
 * @brief Dual 16-bit multiply-accumulate helpers shared by the optimized int8 kernels
 *        (bnn_conv2d_s8_opt, bnn_fully_connected_s8_opt); internal, not public API.
 *
 * On cores with the DSP extension (Cortex-M4/M7/M33/M55, __ARM_FEATURE_DSP) a word of four
 * int8 values [v0 v1 v2 v3] is widened with two SXTB16: (v0, v2) and (v1, v3) as int16
 * lanes (the second through a rotate by 8), and SMLAD adds both lane products to an int32
 * accumulator in one instruction. Both operands of an SMLAD must therefore be in that
 * "even lanes, odd lanes" order; the kernels lay their int16 operands out accordingly.
 * BNN_S8_OPT_DSP is 0 elsewhere and the kernels use portable C loops instead.
 */
#ifndef BNN_S8_MAC_OPT_H
#define BNN_S8_MAC_OPT_H

#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32)
#define BNN_S8_OPT_DSP 1
#include <arm_acle.h>
#else
#define BNN_S8_OPT_DSP 0
#endif

#if defined(__GNUC__)
#define BNN_S8_NOINLINE __attribute__((noinline))
#else
#define BNN_S8_NOINLINE
#endif

/* A 32-bit load / store at any alignment (one LDR / STR where the core allows unaligned
 * accesses; memcpy keeps it free of aliasing and alignment assumptions in C). */
static inline int32_t bnn_s8_ld32(const void *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void bnn_s8_st32(void *p, int32_t v)
{
    memcpy(p, &v, sizeof v);
}

#if BNN_S8_OPT_DSP
/** (v0, v2) of the bytes [v0 v1 v2 v3], sign-extended to int16 lanes. */
static inline int32_t bnn_s8_even(int32_t v)
{
    return __sxtb16(v);
}

/** (v1, v3) of the bytes [v0 v1 v2 v3]: SXTB16 with its built-in rotate by 8. */
static inline int32_t bnn_s8_odd(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/** acc + lo(a) * lo(b) + hi(a) * hi(b), int16 lanes. */
static inline int32_t bnn_s8_smlad(int32_t a, int32_t b, int32_t acc)
{
    return __smlad(a, b, acc);
}

/** Lane-wise int16 addition (no saturation; the callers' sums stay in [-256, 383]). */
static inline int32_t bnn_s8_add16(int32_t a, int32_t b)
{
    return __sadd16(a, b);
}
#endif

#endif /* BNN_S8_MAC_OPT_H */
