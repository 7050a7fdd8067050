/* CONV_2D with +-scale weights stored bit-packed (real input, binary kernel). The loop
 * order is that of bnn_conv2d_f32_ref; each product x * (+-1) is exact, so with a
 * power-of-two scale the result equals the float kernel on the unpacked weights. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_conv2d_binw_f32_ref(const bnn_conv2d_f32_params_t *p, const float *in,
                                     const uint32_t *filter, const float *scale,
                                     const float *bias, float *out)
{
    const bnn_window_t *w = &p->win;
    int32_t n, oy, ox, co, fy, fx, ci, cg, cout_g, words_g;
    bnn_status_t st = bnn_check_window(w, "conv2d_binw");
    if (st != BNN_OK) {
        return st;
    }
    BNN_ENSURE(p->in_c >= 1, "conv2d_binw", "in_c", p->in_c, BNN_ERR_ARG);
    BNN_ENSURE(p->out_c >= 1, "conv2d_binw", "out_c", p->out_c, BNN_ERR_ARG);
    BNN_ENSURE(p->groups >= 1 && p->in_c % p->groups == 0 && p->out_c % p->groups == 0,
               "conv2d_binw", "groups", p->groups, BNN_ERR_ARG);
    BNN_ENSURE(scale != NULL, "conv2d_binw", "scale", 0, BNN_ERR_ARG);
    cg = p->in_c / p->groups;
    cout_g = p->out_c / p->groups;
    words_g = BNN_WORDS(cg);
    for (n = 0; n < w->batch; ++n) {
        for (oy = 0; oy < w->out_h; ++oy) {
            for (ox = 0; ox < w->out_w; ++ox) {
                for (co = 0; co < p->out_c; ++co) {
                    const int32_t g = co / cout_g;
                    float acc = 0.0f;
                    float y;
                    for (fy = 0; fy < w->kernel_h; ++fy) {
                        const int32_t iy = oy * w->stride_h - w->pad_top + fy * w->dilation_h;
                        if (iy < 0 || iy >= w->in_h) {
                            continue;
                        }
                        for (fx = 0; fx < w->kernel_w; ++fx) {
                            const int32_t ix = ox * w->stride_w - w->pad_left + fx * w->dilation_w;
                            const float *x;
                            const uint32_t *f;
                            if (ix < 0 || ix >= w->in_w) {
                                continue;
                            }
                            x = in + (((size_t)n * (size_t)w->in_h + (size_t)iy) * (size_t)w->in_w
                                      + (size_t)ix) * (size_t)p->in_c + (size_t)g * (size_t)cg;
                            f = filter + (((size_t)co * (size_t)w->kernel_h + (size_t)fy)
                                          * (size_t)w->kernel_w + (size_t)fx) * (size_t)words_g;
                            for (ci = 0; ci < cg; ++ci) {
                                const int neg = (int)((f[ci / 32] >> (ci % 32)) & 1u);
                                acc = neg ? acc - x[ci] : acc + x[ci];
                            }
                        }
                    }
                    y = acc * scale[co];
                    if (bias != NULL) {
                        y = y + bias[co];
                    }
                    out[(((size_t)n * (size_t)w->out_h + (size_t)oy) * (size_t)w->out_w
                         + (size_t)ox) * (size_t)p->out_c + (size_t)co] =
                        bnn_clamp_f(y, p->act_min, p->act_max);
                }
            }
        }
    }
    return BNN_OK;
}
