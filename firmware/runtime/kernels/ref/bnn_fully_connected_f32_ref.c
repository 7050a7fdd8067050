/* FULLY_CONNECTED, float. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_fully_connected_f32_ref(const bnn_fully_connected_f32_params_t *p,
                                         const float *in, const float *filter,
                                         const float *bias, float *out)
{
    int32_t r, o, i;
    BNN_ENSURE(p->rows >= 1, "fully_connected", "rows", p->rows, BNN_ERR_ARG);
    BNN_ENSURE(p->in_features >= 1, "fully_connected", "in_features", p->in_features, BNN_ERR_ARG);
    BNN_ENSURE(p->out_features >= 1, "fully_connected", "out_features", p->out_features,
               BNN_ERR_ARG);
    for (r = 0; r < p->rows; ++r) {
        const float *x = in + (size_t)r * (size_t)p->in_features;
        for (o = 0; o < p->out_features; ++o) {
            const float *f = filter + (size_t)o * (size_t)p->in_features;
            float acc = 0.0f;
            for (i = 0; i < p->in_features; ++i) {
                const float prod = x[i] * f[i];
                acc = acc + prod;
            }
            if (bias != NULL) {
                acc = acc + bias[o];
            }
            out[(size_t)r * (size_t)p->out_features + (size_t)o] =
                bnn_clamp_f(acc, p->act_min, p->act_max);
        }
    }
    return BNN_OK;
}
