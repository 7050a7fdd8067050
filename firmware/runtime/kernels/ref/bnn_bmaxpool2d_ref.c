/* LceBMaxPool2d reference kernel (spec §7): AND of the packed words of the clipped window. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_bmaxpool2d_ref(const bnn_bmaxpool2d_params_t *p, const uint32_t *in, uint32_t *out)
{
    const bnn_window_t *w = &p->win;
    int32_t n, oy, ox, fy, fx, j, words;
    bnn_status_t st = bnn_check_window(w, "bmaxpool2d");
    if (st != BNN_OK) {
        return st;
    }
    BNN_ENSURE(p->channels >= 1, "bmaxpool2d", "channels", p->channels, BNN_ERR_ARG);
    words = BNN_WORDS(p->channels);
    for (n = 0; n < w->batch; ++n) {
        for (oy = 0; oy < w->out_h; ++oy) {
            for (ox = 0; ox < w->out_w; ++ox) {
                uint32_t *y = out + (((size_t)n * (size_t)w->out_h + (size_t)oy) * (size_t)w->out_w
                                     + (size_t)ox) * (size_t)words;
                for (j = 0; j < words; ++j) {
                    y[j] = 0xFFFFFFFFu;
                }
                for (fy = 0; fy < w->kernel_h; ++fy) {
                    const int32_t iy = oy * w->stride_h - w->pad_top + fy;
                    if (iy < 0 || iy >= w->in_h) {
                        continue;
                    }
                    for (fx = 0; fx < w->kernel_w; ++fx) {
                        const int32_t ix = ox * w->stride_w - w->pad_left + fx;
                        const uint32_t *x;
                        if (ix < 0 || ix >= w->in_w) {
                            continue;
                        }
                        x = in + (((size_t)n * (size_t)w->in_h + (size_t)iy) * (size_t)w->in_w
                                  + (size_t)ix) * (size_t)words;
                        for (j = 0; j < words; ++j) {
                            y[j] &= x[j];
                        }
                    }
                }
            }
        }
    }
    return BNN_OK;
}
