/* DEQUANTIZE int8 -> float: x = scale * (q - zero_point), in double, rounded once to float. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_affine_dequantize_s8_ref(const bnn_affine_params_t *p, const int8_t *in, float *out)
{
    int32_t i;
    BNN_ENSURE(p->count >= 1, "affine_dequantize", "count", p->count, BNN_ERR_ARG);
    for (i = 0; i < p->count; ++i) {
        out[i] = (float)((double)p->scale * (double)((int32_t)in[i] - p->zero_point));
    }
    return BNN_OK;
}
