/* QUANTIZE float -> int8: q = clamp(round_half_away(x / scale) + zero_point). The division
 * is done in double, as TFLite's kernel holds the scale as a double. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_affine_quantize_s8_ref(const bnn_affine_params_t *p, const float *in, int8_t *out)
{
    int32_t i;
    BNN_ENSURE(p->count >= 1, "affine_quantize", "count", p->count, BNN_ERR_ARG);
    BNN_ENSURE(p->scale > 0.0f, "affine_quantize", "scale>0", 0, BNN_ERR_ARG);
    for (i = 0; i < p->count; ++i) {
        double d = (double)in[i] / (double)p->scale;
        int32_t q;
        /* Saturate before the cast so huge inputs cannot overflow int32. */
        d = d > 1000.0 ? 1000.0 : (d < -1000.0 ? -1000.0 : d);
        q = (int32_t)(d >= 0.0 ? d + 0.5 : d - 0.5) + p->zero_point;
        out[i] = (int8_t)bnn_clamp_i32(q, -128, 127);
    }
    return BNN_OK;
}
