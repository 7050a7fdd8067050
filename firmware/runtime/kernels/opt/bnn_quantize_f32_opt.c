/* LceQuantize of float, optimized (spec §3, §4, §9.4): bit-exact with bnn_quantize_f32_ref.
 *
 * Why it is faster: whole words of 32 channels are built in a register and stored once
 * (the reference read-modify-writes out[c / 32] per channel), and the sign test is
 * branch-free on the bit pattern u of x: bit = 1 iff 0x80800000 <= u <= 0xFF800000
 * (negative, normal or -inf, not NaN; the reference's definition), computed as one
 * unsigned range check: (u - 0x80800000) <= 0x7F000000.
 */
#include <string.h>

#include "../../src/bnn_internal.h"

int bnn_quantize_f32_opt_supports(const bnn_quantize_params_t *p)
{
    return p != NULL;
}

/* The bit of one value (0 or 1). The copy goes through a local float: a memcpy straight from
 * x is a library call on the M0 (no unaligned loads), from an aligned local a register move. */
static inline uint32_t sign_bit(const float *x)
{
    const float f = *x;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (u - 0x80800000u) <= 0x7F000000u ? 1u : 0u;
}

bnn_status_t bnn_quantize_f32_opt(const bnn_quantize_params_t *p, const float *in, uint32_t *out)
{
    int32_t r, c;
    BNN_ENSURE(p->rows >= 1, "quantize", "rows", p->rows, BNN_ERR_ARG);
    BNN_ENSURE(p->channels >= 1, "quantize", "channels", p->channels, BNN_ERR_ARG);
    for (r = 0; r < p->rows; ++r) {
        const float *x = in + (size_t)r * (size_t)p->channels;
        int32_t left = p->channels;
        for (; left >= 32; left -= 32, x += 32) {
            uint32_t word = 0u;
            for (c = 31; c >= 0; --c) {
                word = (word << 1) | sign_bit(x + c);
            }
            *out++ = word;
        }
        if (left > 0) {
            uint32_t word = 0u;
            for (c = left - 1; c >= 0; --c) {
                word = (word << 1) | sign_bit(x + c);
            }
            *out++ = word;
        }
    }
    return BNN_OK;
}
