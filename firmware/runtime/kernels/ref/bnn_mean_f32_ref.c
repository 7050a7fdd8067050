/* MEAN over H and W, float: sum in row-major order, then divide by H * W. */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_mean_f32_ref(const bnn_mean_f32_params_t *p, const float *in, float *out)
{
    int32_t n, y, x, c;
    BNN_ENSURE(p->batch >= 1, "mean", "batch", p->batch, BNN_ERR_ARG);
    BNN_ENSURE(p->in_h >= 1, "mean", "in_h", p->in_h, BNN_ERR_ARG);
    BNN_ENSURE(p->in_w >= 1, "mean", "in_w", p->in_w, BNN_ERR_ARG);
    BNN_ENSURE(p->channels >= 1, "mean", "channels", p->channels, BNN_ERR_ARG);
    for (n = 0; n < p->batch; ++n) {
        for (c = 0; c < p->channels; ++c) {
            float acc = 0.0f;
            for (y = 0; y < p->in_h; ++y) {
                for (x = 0; x < p->in_w; ++x) {
                    acc = acc + in[(((size_t)n * (size_t)p->in_h + (size_t)y) * (size_t)p->in_w
                                    + (size_t)x) * (size_t)p->channels + (size_t)c];
                }
            }
            out[(size_t)n * (size_t)p->channels + (size_t)c] =
                acc / (float)(p->in_h * p->in_w);
        }
    }
    return BNN_OK;
}
