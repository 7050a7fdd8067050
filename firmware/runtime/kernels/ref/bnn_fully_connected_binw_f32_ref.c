/* FULLY_CONNECTED with +-scale weights stored bit-packed; same order as the float kernel,
 * scale factored out (see bnn_conv2d_binw_f32_ref). */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_fully_connected_binw_f32_ref(const bnn_fully_connected_f32_params_t *p,
                                              const float *in, const uint32_t *filter,
                                              const float *scale, const float *bias,
                                              float *out)
{
    int32_t r, o, i, words;
    BNN_ENSURE(p->rows >= 1, "fully_connected_binw", "rows", p->rows, BNN_ERR_ARG);
    BNN_ENSURE(p->in_features >= 1, "fully_connected_binw", "in_features", p->in_features,
               BNN_ERR_ARG);
    BNN_ENSURE(p->out_features >= 1, "fully_connected_binw", "out_features", p->out_features,
               BNN_ERR_ARG);
    BNN_ENSURE(scale != NULL, "fully_connected_binw", "scale", 0, BNN_ERR_ARG);
    words = BNN_WORDS(p->in_features);
    for (r = 0; r < p->rows; ++r) {
        const float *x = in + (size_t)r * (size_t)p->in_features;
        for (o = 0; o < p->out_features; ++o) {
            const uint32_t *f = filter + (size_t)o * (size_t)words;
            float acc = 0.0f;
            float y;
            for (i = 0; i < p->in_features; ++i) {
                acc = ((f[i / 32] >> (i % 32)) & 1u) ? acc - x[i] : acc + x[i];
            }
            y = acc * scale[o];
            if (bias != NULL) {
                y = y + bias[o];
            }
            out[(size_t)r * (size_t)p->out_features + (size_t)o] =
                bnn_clamp_f(y, p->act_min, p->act_max);
        }
    }
    return BNN_OK;
}
