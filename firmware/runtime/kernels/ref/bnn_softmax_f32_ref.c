/* SOFTMAX, float: exp((x - max) * beta) / sum over the last axis. */
#include <math.h>

#include "../../src/bnn_internal.h"

bnn_status_t bnn_softmax_f32_ref(const bnn_softmax_f32_params_t *p, const float *in, float *out)
{
    int32_t r, j;
    BNN_ENSURE(p->rows >= 1, "softmax", "rows", p->rows, BNN_ERR_ARG);
    BNN_ENSURE(p->depth >= 1, "softmax", "depth", p->depth, BNN_ERR_ARG);
    for (r = 0; r < p->rows; ++r) {
        const float *x = in + (size_t)r * (size_t)p->depth;
        float *y = out + (size_t)r * (size_t)p->depth;
        float mx = x[0];
        float sum = 0.0f;
        for (j = 1; j < p->depth; ++j) {
            mx = x[j] > mx ? x[j] : mx;
        }
        for (j = 0; j < p->depth; ++j) {
            y[j] = expf((x[j] - mx) * p->beta);
            sum = sum + y[j];
        }
        for (j = 0; j < p->depth; ++j) {
            y[j] = y[j] / sum;
        }
    }
    return BNN_OK;
}
