/* SUB, float, with broadcasting. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_sub_f32_ref(const bnn_binary_f32_params_t *p, const float *a, const float *b, float *out)
{
    const bnn_broadcast_t *bc = &p->bc;
    int32_t i0, i1, i2, i3;
    size_t o = 0;
    bnn_status_t st = bnn_check_broadcast(bc, "sub");
    if (st != BNN_OK) {
        return st;
    }

    for (i0 = 0; i0 < bc->out_shape[0]; ++i0) {
        for (i1 = 0; i1 < bc->out_shape[1]; ++i1) {
            for (i2 = 0; i2 < bc->out_shape[2]; ++i2) {
                for (i3 = 0; i3 < bc->out_shape[3]; ++i3) {
                    const float va = a[bnn_bc_offset(bc->in1_stride, i0, i1, i2, i3)];
                    const float vb = b[bnn_bc_offset(bc->in2_stride, i0, i1, i2, i3)];
                    out[o++] = bnn_clamp_f(va - vb, p->act_min, p->act_max);
                }
            }
        }
    }
    return BNN_OK;
}
