/* SUB, int8 (TFLite integer semantics), with broadcasting. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_sub_s8_ref(const bnn_add_s8_params_t *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    const bnn_broadcast_t *bc = &p->bc;
    int32_t i0, i1, i2, i3;
    size_t o = 0;
    bnn_status_t st = bnn_check_broadcast(bc, "sub_s8");
    if (st != BNN_OK) {
        return st;
    }
    BNN_ENSURE(p->left_shift >= 0 && p->left_shift <= 20, "sub_s8", "left_shift", p->left_shift,
               BNN_ERR_ARG);
    BNN_ENSURE(p->act_min >= -128 && p->act_min <= p->act_max && p->act_max <= 127, "sub_s8",
               "act_min", p->act_min, BNN_ERR_ARG);
    for (i0 = 0; i0 < bc->out_shape[0]; ++i0) {
        for (i1 = 0; i1 < bc->out_shape[1]; ++i1) {
            for (i2 = 0; i2 < bc->out_shape[2]; ++i2) {
                for (i3 = 0; i3 < bc->out_shape[3]; ++i3) {
                    const int8_t va = a[bnn_bc_offset(bc->in1_stride, i0, i1, i2, i3)];
                    const int8_t vb = b[bnn_bc_offset(bc->in2_stride, i0, i1, i2, i3)];
                    /* Both operands are brought to a common scale with 20 bits of headroom,
                     * combined, then rescaled to the output (TFLite integer ADD / SUB). */
                    const int32_t sa = bnn_mbqm(((int32_t)va + p->in1_offset) * (1 << p->left_shift),
                                                p->in1_multiplier, p->in1_shift);
                    const int32_t sb = bnn_mbqm(((int32_t)vb + p->in2_offset) * (1 << p->left_shift),
                                                p->in2_multiplier, p->in2_shift);
                    const int32_t r = bnn_mbqm(sa - sb, p->out_multiplier, p->out_shift)
                                      + p->output_offset;
                    out[o++] = (int8_t)bnn_clamp_i32(r, p->act_min, p->act_max);
                }
            }
        }
    }
    return BNN_OK;
}
