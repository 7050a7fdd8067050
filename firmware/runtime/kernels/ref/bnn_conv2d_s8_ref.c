/* CONV_2D, int8 with per-channel requantization (TFLite reference integer semantics). */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_conv2d_s8_ref(const bnn_conv2d_s8_params_t *p, const int8_t *in,
                               const int8_t *filter, const int32_t *bias, int8_t *out)
{
    const bnn_window_t *w = &p->win;
    int32_t n, oy, ox, co, fy, fx, ci, cg, cout_g;
    bnn_status_t st = bnn_check_window(w, "conv2d_s8");
    if (st != BNN_OK) {
        return st;
    }
    BNN_ENSURE(p->in_c >= 1, "conv2d_s8", "in_c", p->in_c, BNN_ERR_ARG);
    BNN_ENSURE(p->out_c >= 1, "conv2d_s8", "out_c", p->out_c, BNN_ERR_ARG);
    BNN_ENSURE(p->groups >= 1 && p->in_c % p->groups == 0 && p->out_c % p->groups == 0,
               "conv2d_s8", "groups", p->groups, BNN_ERR_ARG);
    BNN_ENSURE(p->out_multiplier != NULL && p->out_shift != NULL, "conv2d_s8", "out_multiplier",
               0, BNN_ERR_ARG);
    BNN_ENSURE(p->act_min >= -128 && p->act_min <= p->act_max && p->act_max <= 127, "conv2d_s8",
               "act_min", p->act_min, BNN_ERR_ARG);
    cg = p->in_c / p->groups;
    cout_g = p->out_c / p->groups;
    for (n = 0; n < w->batch; ++n) {
        for (oy = 0; oy < w->out_h; ++oy) {
            for (ox = 0; ox < w->out_w; ++ox) {
                for (co = 0; co < p->out_c; ++co) {
                    const int32_t g = co / cout_g;
                    int32_t acc = 0;
                    for (fy = 0; fy < w->kernel_h; ++fy) {
                        const int32_t iy = oy * w->stride_h - w->pad_top + fy * w->dilation_h;
                        if (iy < 0 || iy >= w->in_h) {
                            continue;
                        }
                        for (fx = 0; fx < w->kernel_w; ++fx) {
                            const int32_t ix = ox * w->stride_w - w->pad_left + fx * w->dilation_w;
                            const int8_t *x;
                            const int8_t *f;
                            if (ix < 0 || ix >= w->in_w) {
                                continue;
                            }
                            x = in + (((size_t)n * (size_t)w->in_h + (size_t)iy) * (size_t)w->in_w
                                      + (size_t)ix) * (size_t)p->in_c + (size_t)g * (size_t)cg;
                            f = filter + (((size_t)co * (size_t)w->kernel_h + (size_t)fy)
                                          * (size_t)w->kernel_w + (size_t)fx) * (size_t)cg;
                            for (ci = 0; ci < cg; ++ci) {
                                acc += ((int32_t)x[ci] + p->input_offset) * (int32_t)f[ci];
                            }
                        }
                    }
                    out[(((size_t)n * (size_t)w->out_h + (size_t)oy) * (size_t)w->out_w
                         + (size_t)ox) * (size_t)p->out_c + (size_t)co] =
                        bnn_s8_output(acc, bias, co, p->out_multiplier[co], p->out_shift[co],
                                      p->rounding, p->output_offset, p->act_min, p->act_max);
                }
            }
        }
    }
    return BNN_OK;
}
