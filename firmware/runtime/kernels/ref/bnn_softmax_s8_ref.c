/* SOFTMAX, int8, as TFLite's default kernel computes it: a float exp table indexed by the
 * distance to the row maximum, a float sum, and one rounding per output. */
#include <math.h>

#include "../../src/bnn_internal.h"

void bnn_softmax_s8_fill_table(float *table, float in_scale, float beta)
{
    /* table[255 - v] = exp(-in_scale * beta * v): entry 255 - (max - q) holds
     * exp(in_scale * beta * (q - max)). The product is formed in float as TFLite does. */
    const float scale = -in_scale * beta;
    int32_t v;
    for (v = 0; v <= 255; ++v) {
        table[255 - v] = expf(scale * (float)v);
    }
}

bnn_status_t bnn_softmax_s8_ref(const bnn_softmax_s8_params_t *p, const int8_t *in, int8_t *out)
{
    int32_t r, j;
    BNN_ENSURE(p->rows >= 1, "softmax_s8", "rows", p->rows, BNN_ERR_ARG);
    BNN_ENSURE(p->depth >= 1, "softmax_s8", "depth", p->depth, BNN_ERR_ARG);
    BNN_ENSURE(p->table != NULL, "softmax_s8", "table", 0, BNN_ERR_ARG);
    BNN_ENSURE(p->out_scale > 0.0f, "softmax_s8", "out_scale>0", 0, BNN_ERR_ARG);
    for (r = 0; r < p->rows; ++r) {
        const int8_t *x = in + (size_t)r * (size_t)p->depth;
        int8_t *y = out + (size_t)r * (size_t)p->depth;
        int32_t mx = -128;
        float sum = 0.0f;
        float inv;
        const float *t;
        for (j = 0; j < p->depth; ++j) {
            mx = (int32_t)x[j] > mx ? (int32_t)x[j] : mx;
        }
        /* t[q] for q in [-128, mx]: index 255 - mx + q lies in [127 - mx, 255]. */
        t = p->table + 255 - mx;
        for (j = 0; j < p->depth; ++j) {
            sum = sum + t[x[j]];
        }
        inv = sum * p->out_scale;
        inv = 1.0f / inv;
        for (j = 0; j < p->depth; ++j) {
            const float prob = t[x[j]] * inv;
            const double d = (double)prob;
            const int32_t q = (int32_t)(d >= 0.0 ? d + 0.5 : d - 0.5) + p->output_zero_point;
            y[j] = (int8_t)bnn_clamp_i32(q, -128, 127);
        }
    }
    return BNN_OK;
}
