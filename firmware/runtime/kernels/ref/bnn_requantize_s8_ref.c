/* int8 -> int8 requantization with clamp (QUANTIZE int8->int8, RELU, RELU6, RELU_N1_TO_1). */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_requantize_s8_ref(const bnn_requantize_s8_params_t *p, const int8_t *in, int8_t *out)
{
    int32_t i;
    BNN_ENSURE(p->count >= 1, "requantize", "count", p->count, BNN_ERR_ARG);
    BNN_ENSURE(p->act_min >= -128 && p->act_min <= p->act_max && p->act_max <= 127, "requantize",
               "act_min", p->act_min, BNN_ERR_ARG);
    for (i = 0; i < p->count; ++i) {
        const int32_t r = bnn_mbqm((int32_t)in[i] - p->input_zero_point, p->multiplier, p->shift)
                          + p->output_zero_point;
        out[i] = (int8_t)bnn_clamp_i32(r, p->act_min, p->act_max);
    }
    return BNN_OK;
}
