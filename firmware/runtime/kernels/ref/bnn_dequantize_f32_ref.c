/* LceDequantize to float: bit 0 -> +1, bit 1 -> -1 (spec §5). */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_dequantize_f32_ref(const bnn_dequantize_params_t *p, const uint32_t *in, float *out)
{
    int32_t r, c;
    const int32_t n_words = BNN_WORDS(p->channels);
    BNN_ENSURE(p->rows >= 1, "dequantize", "rows", p->rows, BNN_ERR_ARG);
    BNN_ENSURE(p->channels >= 1, "dequantize", "channels", p->channels, BNN_ERR_ARG);
    for (r = 0; r < p->rows; ++r) {
        const uint32_t *w = in + (size_t)r * (size_t)n_words;
        float *y = out + (size_t)r * (size_t)p->channels;
        for (c = 0; c < p->channels; ++c) {
            y[c] = ((w[c / 32] >> (c % 32)) & 1u) ? -1.0f : 1.0f;
        }
    }
    return BNN_OK;
}
