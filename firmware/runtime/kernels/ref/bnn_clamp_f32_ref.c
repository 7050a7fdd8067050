/* RELU, RELU6, RELU_N1_TO_1 in float: a clamp. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_clamp_f32_ref(const bnn_clamp_f32_params_t *p, const float *in, float *out)
{
    int32_t i;
    BNN_ENSURE(p->count >= 1, "clamp", "count", p->count, BNN_ERR_ARG);
    for (i = 0; i < p->count; ++i) {
        out[i] = bnn_clamp_f(in[i], p->act_min, p->act_max);
    }
    return BNN_OK;
}
