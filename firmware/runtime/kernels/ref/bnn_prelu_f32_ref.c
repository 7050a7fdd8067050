/* PRELU, float: x >= 0 ? x : x * alpha, alpha broadcast as operand 2. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_prelu_f32_ref(const bnn_binary_f32_params_t *p, const float *in, const float *alpha, float *out)
{
    const bnn_broadcast_t *bc = &p->bc;
    int32_t i0, i1, i2, i3;
    size_t o = 0;
    bnn_status_t st = bnn_check_broadcast(bc, "prelu");
    if (st != BNN_OK) {
        return st;
    }

    for (i0 = 0; i0 < bc->out_shape[0]; ++i0) {
        for (i1 = 0; i1 < bc->out_shape[1]; ++i1) {
            for (i2 = 0; i2 < bc->out_shape[2]; ++i2) {
                for (i3 = 0; i3 < bc->out_shape[3]; ++i3) {
                    const float va = in[bnn_bc_offset(bc->in1_stride, i0, i1, i2, i3)];
                    const float vb = alpha[bnn_bc_offset(bc->in2_stride, i0, i1, i2, i3)];
                    out[o++] = va >= 0.0f ? va : va * vb;
                }
            }
        }
    }
    return BNN_OK;
}
