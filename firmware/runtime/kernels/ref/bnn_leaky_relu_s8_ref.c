/* LEAKY_RELU, int8 (TFLite integer semantics): one multiplier per sign of q - zero_point. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_leaky_relu_s8_ref(const bnn_leaky_relu_s8_params_t *p, const int8_t *in, int8_t *out)
{
    int32_t i;
    BNN_ENSURE(p->count >= 1, "leaky_relu_s8", "count", p->count, BNN_ERR_ARG);
    for (i = 0; i < p->count; ++i) {
        const int32_t v = (int32_t)in[i] - p->input_zero_point;
        const int32_t r = v >= 0 ? bnn_mbqm(v, p->identity_multiplier, p->identity_shift)
                                 : bnn_mbqm(v, p->alpha_multiplier, p->alpha_shift);
        out[i] = (int8_t)bnn_clamp_i32(r + p->output_zero_point, -128, 127);
    }
    return BNN_OK;
}
