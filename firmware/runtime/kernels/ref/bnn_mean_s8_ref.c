/* MEAN over H and W, int8, as TFLite's reference paths for keep_dims=False compute it. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_mean_s8_ref(const bnn_mean_s8_params_t *p, const int8_t *in, int8_t *out)
{
    int32_t n, y, x, c, count;
    BNN_ENSURE(p->batch >= 1, "mean_s8", "batch", p->batch, BNN_ERR_ARG);
    BNN_ENSURE(p->in_h >= 1, "mean_s8", "in_h", p->in_h, BNN_ERR_ARG);
    BNN_ENSURE(p->in_w >= 1, "mean_s8", "in_w", p->in_w, BNN_ERR_ARG);
    BNN_ENSURE(p->channels >= 1, "mean_s8", "channels", p->channels, BNN_ERR_ARG);
    BNN_ENSURE(p->mode == BNN_MEAN_S8_SAME_QUANT || p->mode == BNN_MEAN_S8_RESCALE, "mean_s8",
               "mode", p->mode, BNN_ERR_ARG);
    count = p->in_h * p->in_w;
    for (n = 0; n < p->batch; ++n) {
        for (c = 0; c < p->channels; ++c) {
            int32_t sum = 0;
            int32_t q;
            for (y = 0; y < p->in_h; ++y) {
                for (x = 0; x < p->in_w; ++x) {
                    sum += (int32_t)in[(((size_t)n * (size_t)p->in_h + (size_t)y)
                                        * (size_t)p->in_w + (size_t)x) * (size_t)p->channels
                                       + (size_t)c];
                }
            }
            if (p->mode == BNN_MEAN_S8_SAME_QUANT) {
                /* integer mean rounded half away from zero (TFLite's reference Mean) */
                q = sum >= 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
            } else {
                /* float mean, then round half away from zero of mean*scale + bias (two
                 * roundings), + zero point, clamped in float as TFLite does. */
                const float bias = (float)(-p->input_zero_point) * p->scale;
                const float mean = (float)sum / (float)count;
                float r = mean * p->scale;
                double d;
                r = r + bias;
                d = (double)r;
                d = d >= 0.0 ? (double)(int32_t)(d + 0.5) : (double)(int32_t)(d - 0.5);
                r = (float)d + (float)p->output_zero_point;
                r = bnn_clamp_f(r, -128.0f, 127.0f);
                q = (int32_t)r;
            }
            out[(size_t)n * (size_t)p->channels + (size_t)c] = (int8_t)bnn_clamp_i32(q, -128, 127);
        }
    }
    return BNN_OK;
}
