/* MAX_POOL_2D, float: max over the clipped window, then the activation clamp. */
#include <float.h>

#include "../../src/bnn_internal.h"

bnn_status_t bnn_max_pool2d_f32_ref(const bnn_pool2d_f32_params_t *p, const float *in, float *out)
{
    const bnn_window_t *w = &p->win;
    int32_t n, oy, ox, c, fy, fx;
    bnn_status_t st = bnn_check_window(w, "max_pool2d_f32");
    if (st != BNN_OK) {
        return st;
    }
    BNN_ENSURE(p->channels >= 1, "max_pool2d_f32", "channels", p->channels, BNN_ERR_ARG);
    BNN_ENSURE(w->dilation_h == 1 && w->dilation_w == 1, "max_pool2d_f32", "dilation_h", w->dilation_h,
               BNN_ERR_ARG);
    for (n = 0; n < w->batch; ++n) {
        for (oy = 0; oy < w->out_h; ++oy) {
            for (ox = 0; ox < w->out_w; ++ox) {
                /* The window clipped to the input: padding takes no part. */
                const int32_t y0 = oy * w->stride_h - w->pad_top;
                const int32_t x0 = ox * w->stride_w - w->pad_left;
                const int32_t fy0 = bnn_max_i32(0, -y0);
                const int32_t fy1 = bnn_min_i32(w->kernel_h, w->in_h - y0);
                const int32_t fx0 = bnn_max_i32(0, -x0);
                const int32_t fx1 = bnn_min_i32(w->kernel_w, w->in_w - x0);
                const int32_t count = (fy1 - fy0) * (fx1 - fx0);
                for (c = 0; c < p->channels; ++c) {
                    float acc = -FLT_MAX;
                    for (fy = fy0; fy < fy1; ++fy) {
                        for (fx = fx0; fx < fx1; ++fx) {
                            const float v = in[(((size_t)n * (size_t)w->in_h + (size_t)(y0 + fy))
                                             * (size_t)w->in_w + (size_t)(x0 + fx))
                                                * (size_t)p->channels + (size_t)c];
                            acc = v > acc ? v : acc;
                        }
                    }
                    (void)count;
                    out[(((size_t)n * (size_t)w->out_h + (size_t)oy) * (size_t)w->out_w
                         + (size_t)ox) * (size_t)p->channels + (size_t)c] = bnn_clamp_f(acc, p->act_min, p->act_max);
                }
            }
        }
    }
    return BNN_OK;
}
