/* DEPTHWISE_CONV_2D, int8 with per-channel requantization (TFLite integer semantics). */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_depthwise_conv2d_s8_ref(const bnn_depthwise_conv2d_s8_params_t *p,
                                         const int8_t *in, const int8_t *filter,
                                         const int32_t *bias, int8_t *out)
{
    const bnn_window_t *w = &p->win;
    int32_t n, oy, ox, ic, m, fy, fx, out_c;
    bnn_status_t st = bnn_check_window(w, "depthwise_conv2d_s8");
    if (st != BNN_OK) {
        return st;
    }
    BNN_ENSURE(p->in_c >= 1, "depthwise_conv2d_s8", "in_c", p->in_c, BNN_ERR_ARG);
    BNN_ENSURE(p->depth_multiplier >= 1, "depthwise_conv2d_s8", "depth_multiplier",
               p->depth_multiplier, BNN_ERR_ARG);
    BNN_ENSURE(p->out_multiplier != NULL && p->out_shift != NULL, "depthwise_conv2d_s8",
               "out_multiplier", 0, BNN_ERR_ARG);
    BNN_ENSURE(p->act_min >= -128 && p->act_min <= p->act_max && p->act_max <= 127,
               "depthwise_conv2d_s8", "act_min", p->act_min, BNN_ERR_ARG);
    out_c = p->in_c * p->depth_multiplier;
    for (n = 0; n < w->batch; ++n) {
        for (oy = 0; oy < w->out_h; ++oy) {
            for (ox = 0; ox < w->out_w; ++ox) {
                for (ic = 0; ic < p->in_c; ++ic) {
                    for (m = 0; m < p->depth_multiplier; ++m) {
                        const int32_t oc = ic * p->depth_multiplier + m;
                        int32_t acc = 0;
                        for (fy = 0; fy < w->kernel_h; ++fy) {
                            const int32_t iy = oy * w->stride_h - w->pad_top + fy * w->dilation_h;
                            if (iy < 0 || iy >= w->in_h) {
                                continue;
                            }
                            for (fx = 0; fx < w->kernel_w; ++fx) {
                                const int32_t ix = ox * w->stride_w - w->pad_left
                                                   + fx * w->dilation_w;
                                if (ix < 0 || ix >= w->in_w) {
                                    continue;
                                }
                                acc += ((int32_t)in[(((size_t)n * (size_t)w->in_h + (size_t)iy)
                                                     * (size_t)w->in_w + (size_t)ix)
                                                        * (size_t)p->in_c + (size_t)ic]
                                        + p->input_offset)
                                       * (int32_t)filter[((size_t)fy * (size_t)w->kernel_w
                                                          + (size_t)fx) * (size_t)out_c
                                                         + (size_t)oc];
                            }
                        }
                        out[(((size_t)n * (size_t)w->out_h + (size_t)oy) * (size_t)w->out_w
                             + (size_t)ox) * (size_t)out_c + (size_t)oc] =
                            bnn_s8_output(acc, bias, oc, p->out_multiplier[oc],
                                          p->out_shift[oc], p->rounding, p->output_offset,
                                          p->act_min, p->act_max);
                    }
                }
            }
        }
    }
    return BNN_OK;
}
