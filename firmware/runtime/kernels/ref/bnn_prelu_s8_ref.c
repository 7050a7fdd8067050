/* PRELU, int8 (TFLite integer semantics), alpha broadcast as operand 2. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_prelu_s8_ref(const bnn_prelu_s8_params_t *p, const int8_t *in, const int8_t *alpha, int8_t *out)
{
    const bnn_broadcast_t *bc = &p->bc;
    int32_t i0, i1, i2, i3;
    size_t o = 0;
    bnn_status_t st = bnn_check_broadcast(bc, "prelu_s8");
    if (st != BNN_OK) {
        return st;
    }

    for (i0 = 0; i0 < bc->out_shape[0]; ++i0) {
        for (i1 = 0; i1 < bc->out_shape[1]; ++i1) {
            for (i2 = 0; i2 < bc->out_shape[2]; ++i2) {
                for (i3 = 0; i3 < bc->out_shape[3]; ++i3) {
                    const int8_t va = in[bnn_bc_offset(bc->in1_stride, i0, i1, i2, i3)];
                    const int8_t vb = alpha[bnn_bc_offset(bc->in2_stride, i0, i1, i2, i3)];
                    const int32_t v = (int32_t)va + p->input_offset;
                    int32_t r;
                    if (v >= 0) {
                        r = bnn_mbqm(v, p->multiplier_1, p->shift_1);
                    } else {
                        r = bnn_mbqm(v * ((int32_t)vb + p->alpha_offset), p->multiplier_2, p->shift_2);
                    }
                    r += p->output_offset;
                    out[o++] = (int8_t)bnn_clamp_i32(r, -128, 127);
                }
            }
        }
    }
    return BNN_OK;
}
