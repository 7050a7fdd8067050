/* TANH, float. */
#include <math.h>

#include "../../src/bnn_internal.h"

bnn_status_t bnn_tanh_f32_ref(const bnn_clamp_f32_params_t *p, const float *in, float *out)
{
    int32_t i;
    BNN_ENSURE(p->count >= 1, "tanh", "count", p->count, BNN_ERR_ARG);
    for (i = 0; i < p->count; ++i) {
        out[i] = tanhf(in[i]);
    }
    return BNN_OK;
}
