/* LceQuantize, int8 input: bit = q < zero_point (spec §3). */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_quantize_s8_ref(const bnn_quantize_params_t *p, const int8_t *in, uint32_t *out)
{
    int32_t r, c;
    const int32_t n_words = BNN_WORDS(p->channels);
    BNN_ENSURE(p->rows >= 1, "quantize", "rows", p->rows, BNN_ERR_ARG);
    BNN_ENSURE(p->channels >= 1, "quantize", "channels", p->channels, BNN_ERR_ARG);
    BNN_ENSURE(p->zero_point >= -128 && p->zero_point <= 127, "quantize", "zero_point",
               p->zero_point, BNN_ERR_ARG);
    for (r = 0; r < p->rows; ++r) {
        const int8_t *x = in + (size_t)r * (size_t)p->channels;
        uint32_t *w = out + (size_t)r * (size_t)n_words;
        for (c = 0; c < n_words; ++c) {
            w[c] = 0u;
        }
        for (c = 0; c < p->channels; ++c) {
            w[c / 32] |= ((int32_t)x[c] < p->zero_point ? 1u : 0u) << (c % 32);
        }
    }
    return BNN_OK;
}
