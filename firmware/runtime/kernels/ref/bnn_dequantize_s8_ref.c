/* LceDequantize to int8 (spec §5): +-1 quantized with the output's scale and zero point. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_dequantize_s8_ref(const bnn_dequantize_params_t *p, const uint32_t *in, int8_t *out)
{
    int32_t r, c, off;
    int8_t plus, minus;
    float inv;
    const int32_t n_words = BNN_WORDS(p->channels);
    BNN_ENSURE(p->rows >= 1, "dequantize", "rows", p->rows, BNN_ERR_ARG);
    BNN_ENSURE(p->channels >= 1, "dequantize", "channels", p->channels, BNN_ERR_ARG);
    BNN_ENSURE(p->scale > 0.0f, "dequantize", "scale>0", 0, BNN_ERR_ARG);
    BNN_ENSURE(p->zero_point >= -128 && p->zero_point <= 127, "dequantize", "zero_point",
               p->zero_point, BNN_ERR_ARG);
    /* LCE divides in float, rounds half away from zero, then saturates z +- off. */
    inv = 1.0f / p->scale;
    /* inv > 0, so half away from zero is floor(inv + 0.5) (exact in double). Any
     * off >= 255 saturates both levels, so large values are capped before the cast. */
    off = (double)inv + 0.5 >= 255.0 ? 255 : (int32_t)((double)inv + 0.5);
    plus = (int8_t)bnn_min_i32(127, p->zero_point + off);
    minus = (int8_t)bnn_max_i32(-128, p->zero_point - off);
    for (r = 0; r < p->rows; ++r) {
        const uint32_t *w = in + (size_t)r * (size_t)n_words;
        int8_t *y = out + (size_t)r * (size_t)p->channels;
        for (c = 0; c < p->channels; ++c) {
            y[c] = ((w[c / 32] >> (c % 32)) & 1u) ? minus : plus;
        }
    }
    return BNN_OK;
}
