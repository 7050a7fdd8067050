/* LEAKY_RELU, float: x > 0 ? x : alpha * x. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_leaky_relu_f32_ref(const bnn_leaky_relu_f32_params_t *p, const float *in, float *out)
{
    int32_t i;
    BNN_ENSURE(p->count >= 1, "leaky_relu", "count", p->count, BNN_ERR_ARG);
    for (i = 0; i < p->count; ++i) {
        out[i] = in[i] > 0.0f ? in[i] : p->alpha * in[i];
    }
    return BNN_OK;
}
