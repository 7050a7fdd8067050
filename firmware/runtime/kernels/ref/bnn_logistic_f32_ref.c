/* LOGISTIC, float: 1 / (1 + exp(-x)). */
#include <math.h>

#include "../../src/bnn_internal.h"

bnn_status_t bnn_logistic_f32_ref(const bnn_clamp_f32_params_t *p, const float *in, float *out)
{
    int32_t i;
    BNN_ENSURE(p->count >= 1, "logistic", "count", p->count, BNN_ERR_ARG);
    for (i = 0; i < p->count; ++i) {
        out[i] = 1.0f / (1.0f + expf(-in[i]));
    }
    return BNN_OK;
}
