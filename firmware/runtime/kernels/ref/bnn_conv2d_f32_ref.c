/* CONV_2D, float (TFLite reference semantics; zero padding, optional groups). */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_conv2d_f32_ref(const bnn_conv2d_f32_params_t *p, const float *in,
                                const float *filter, const float *bias, float *out)
{
    const bnn_window_t *w = &p->win;
    int32_t n, oy, ox, co, fy, fx, ci, cg, cout_g;
    bnn_status_t st = bnn_check_window(w, "conv2d");
    if (st != BNN_OK) {
        return st;
    }
    BNN_ENSURE(p->in_c >= 1, "conv2d", "in_c", p->in_c, BNN_ERR_ARG);
    BNN_ENSURE(p->out_c >= 1, "conv2d", "out_c", p->out_c, BNN_ERR_ARG);
    BNN_ENSURE(p->groups >= 1 && p->in_c % p->groups == 0 && p->out_c % p->groups == 0,
               "conv2d", "groups", p->groups, BNN_ERR_ARG);
    cg = p->in_c / p->groups;
    cout_g = p->out_c / p->groups;
    for (n = 0; n < w->batch; ++n) {
        for (oy = 0; oy < w->out_h; ++oy) {
            for (ox = 0; ox < w->out_w; ++ox) {
                for (co = 0; co < p->out_c; ++co) {
                    const int32_t g = co / cout_g;
                    float acc = 0.0f;
                    for (fy = 0; fy < w->kernel_h; ++fy) {
                        const int32_t iy = oy * w->stride_h - w->pad_top + fy * w->dilation_h;
                        if (iy < 0 || iy >= w->in_h) {
                            continue;
                        }
                        for (fx = 0; fx < w->kernel_w; ++fx) {
                            const int32_t ix = ox * w->stride_w - w->pad_left + fx * w->dilation_w;
                            const float *x;
                            const float *f;
                            if (ix < 0 || ix >= w->in_w) {
                                continue;
                            }
                            x = in + (((size_t)n * (size_t)w->in_h + (size_t)iy) * (size_t)w->in_w
                                      + (size_t)ix) * (size_t)p->in_c + (size_t)g * (size_t)cg;
                            f = filter + (((size_t)co * (size_t)w->kernel_h + (size_t)fy)
                                          * (size_t)w->kernel_w + (size_t)fx) * (size_t)cg;
                            for (ci = 0; ci < cg; ++ci) {
                                const float prod = x[ci] * f[ci];
                                acc = acc + prod;
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc = acc + bias[co];
                    }
                    out[(((size_t)n * (size_t)w->out_h + (size_t)oy) * (size_t)w->out_w
                         + (size_t)ox) * (size_t)p->out_c + (size_t)co] =
                        bnn_clamp_f(acc, p->act_min, p->act_max);
                }
            }
        }
    }
    return BNN_OK;
}
