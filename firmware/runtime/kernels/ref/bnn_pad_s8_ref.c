/* PAD / PADV2, s8: constant padding of a 4-D tensor. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_pad_s8_ref(const bnn_pad_params_t *p, int8_t pad_value, const int8_t *in, int8_t *out)
{
    int32_t od[4], i0, i1, i2, i3, k;
    size_t o = 0;
    for (k = 0; k < 4; ++k) {
        BNN_ENSURE(p->in_shape[k] >= 1, "pad", "in_shape[k]", p->in_shape[k], BNN_ERR_ARG);
        BNN_ENSURE(p->pad_before[k] >= 0, "pad", "pad_before[k]", p->pad_before[k], BNN_ERR_ARG);
        BNN_ENSURE(p->pad_after[k] >= 0, "pad", "pad_after[k]", p->pad_after[k], BNN_ERR_ARG);
        od[k] = p->pad_before[k] + p->in_shape[k] + p->pad_after[k];
    }
    for (i0 = 0; i0 < od[0]; ++i0) {
        for (i1 = 0; i1 < od[1]; ++i1) {
            for (i2 = 0; i2 < od[2]; ++i2) {
                for (i3 = 0; i3 < od[3]; ++i3) {
                    const int32_t j0 = i0 - p->pad_before[0], j1 = i1 - p->pad_before[1];
                    const int32_t j2 = i2 - p->pad_before[2], j3 = i3 - p->pad_before[3];
                    if (j0 >= 0 && j0 < p->in_shape[0] && j1 >= 0 && j1 < p->in_shape[1]
                        && j2 >= 0 && j2 < p->in_shape[2] && j3 >= 0 && j3 < p->in_shape[3]) {
                        out[o++] = in[(((size_t)j0 * (size_t)p->in_shape[1] + (size_t)j1)
                                       * (size_t)p->in_shape[2] + (size_t)j2)
                                          * (size_t)p->in_shape[3] + (size_t)j3];
                    } else {
                        out[o++] = pad_value;
                    }
                }
            }
        }
    }
    return BNN_OK;
}
