/* Shared by the LceBconv2d reference kernel and the fused reference kernel. */
#include "bnn_internal.h"

/*
 * Zero padding, float output, LCE's default kernel (spec §6.8 and Appendix B).
 * The default kernel accumulates with ONE padding and then adds a float correction
 * C = (float)(-pam) * (float)S, where S sums fsum(co, fy, fx) = Cg - 2*popcount(F[co,fy,fx])
 * over a set of taps chosen by one of four "cases" (the corner the kernel overhangs).
 * 1. In the normal regime (EKH <= H, EKW <= W) the chosen taps are exactly the outside
 *    taps, so S removes the +1 * weight that one padding added: true zero padding.
 * 2. When the dilated kernel is larger than the input, LCE's four-case cache does not
 *    describe the outside taps; we reproduce its choice literally (Appendix B) so that
 *    the output matches the oracle, not true zero padding.
 * 3. For float output s = 1, so mul[co] = (float)(-(double)pam[co]) = -pam[co] exactly,
 *    and C = mul[co] * (float)S: no extra constant is needed.
 * Returns 0 and sets *has_corr = 0 when no correction applies at (oy, ox).
 */
int32_t bnn_bconv2d_zero_pad_sum(const bnn_bconv2d_params_t *p, const uint32_t *filter_co,
                            int32_t words_g, int32_t cg, int32_t oy, int32_t ox, int *has_corr)
{
    const bnn_window_t *w = &p->win;
    const int32_t ekh = (w->kernel_h - 1) * w->dilation_h + 1;
    const int32_t ekw = (w->kernel_w - 1) * w->dilation_w + 1;
    /* C division truncates toward zero; LCE does not clamp these at 0. */
    const int32_t top = ((w->out_h - 1) * w->stride_h + ekh - w->in_h) / 2;
    const int32_t left = ((w->out_w - 1) * w->stride_w + ekw - w->in_w) / 2;
    const int32_t ot = top - oy * w->stride_h;
    const int32_t ob = ekh - w->in_h - ot;
    const int32_t ol = left - ox * w->stride_w;
    const int32_t orr = ekw - w->in_w - ol;
    int32_t which, cy = 0, cx = 0, fy, fx, j, s = 0;

    if (ol <= 0 && orr <= 0 && ot <= 0 && ob <= 0) {
        which = -1;
    } else if (orr <= 0 && ot > 0 && ob < 0) {
        which = 0, cx = bnn_max_i32(ol, 0), cy = ot;
    } else if (ol < 0 && orr > 0 && ob <= 0) {
        which = 1, cx = orr, cy = bnn_max_i32(ot, 0);
    } else if (ol > 0 && orr < 0 && ot <= 0) {
        which = 2, cx = ol, cy = bnn_max_i32(ob, 0);
    } else if (ol <= 0 && ot < 0 && ob > 0) {
        which = 3, cx = bnn_max_i32(orr, 0), cy = ob;
    } else {
        which = -1;
    }
    *has_corr = which >= 0;
    if (which < 0) {
        return 0;
    }
    for (fy = 0; fy < w->kernel_h; ++fy) {
        for (fx = 0; fx < w->kernel_w; ++fx) {
            const int32_t ey = fy * w->dilation_h;
            const int32_t ex = fx * w->dilation_w;
            const int row_hit = (which < 2) ? (ey < cy) : (ekh - ey <= cy);
            const int col_hit = (which == 0 || which == 2) ? (ex < cx) : (ekw - ex <= cx);
            if (row_hit || col_hit) {
                const uint32_t *f = filter_co + ((size_t)fy * (size_t)w->kernel_w + (size_t)fx)
                                                    * (size_t)words_g;
                int32_t pc = 0;
                for (j = 0; j < words_g; ++j) {
                    pc += bnn_popcount32(f[j]);
                }
                s += cg - 2 * pc;
            }
        }
    }
    return s;
}
