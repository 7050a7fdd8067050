/* LceQuantize, float input (spec §3, §4, §9.4). */
#include <string.h>

#include "../../src/bnn_internal.h"

/* bit = (x <= -FLT_MIN), decided on the bit pattern u of x: negative (sign set), not
 * subnormal or zero (exponent != 0) and not NaN (u <= 0xFF800000, which is -inf).
 * That is 0x80800000 <= u <= 0xFF800000. A float comparison would give the same answer
 * on an IEEE FPU, but not under flush-to-zero / denormals-are-zero modes or -ffast-math;
 * the integer test is what the x86 oracle does on every target. */
static uint32_t sign_bit(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return (u >= 0x80800000u && u <= 0xFF800000u) ? 1u : 0u;
}

bnn_status_t bnn_quantize_f32_ref(const bnn_quantize_params_t *p, const float *in, uint32_t *out)
{
    int32_t r, c;
    const int32_t n_words = BNN_WORDS(p->channels);
    BNN_ENSURE(p->rows >= 1, "quantize", "rows", p->rows, BNN_ERR_ARG);
    BNN_ENSURE(p->channels >= 1, "quantize", "channels", p->channels, BNN_ERR_ARG);
    for (r = 0; r < p->rows; ++r) {
        const float *x = in + (size_t)r * (size_t)p->channels;
        uint32_t *w = out + (size_t)r * (size_t)n_words;
        for (c = 0; c < n_words; ++c) {
            w[c] = 0u;
        }
        for (c = 0; c < p->channels; ++c) {
            w[c / 32] |= sign_bit(x[c]) << (c % 32);
        }
    }
    return BNN_OK;
}
