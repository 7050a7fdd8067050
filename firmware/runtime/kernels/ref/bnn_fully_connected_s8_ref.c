/* FULLY_CONNECTED, int8 (TFLite reference integer semantics). */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_fully_connected_s8_ref(const bnn_fully_connected_s8_params_t *p,
                                        const int8_t *in, const int8_t *filter,
                                        const int32_t *bias, int8_t *out)
{
    int32_t r, o, i;
    BNN_ENSURE(p->rows >= 1, "fully_connected_s8", "rows", p->rows, BNN_ERR_ARG);
    BNN_ENSURE(p->in_features >= 1, "fully_connected_s8", "in_features", p->in_features,
               BNN_ERR_ARG);
    BNN_ENSURE(p->out_features >= 1, "fully_connected_s8", "out_features", p->out_features,
               BNN_ERR_ARG);
    BNN_ENSURE(p->out_multiplier != NULL && p->out_shift != NULL, "fully_connected_s8",
               "out_multiplier", 0, BNN_ERR_ARG);
    BNN_ENSURE(p->act_min >= -128 && p->act_min <= p->act_max && p->act_max <= 127,
               "fully_connected_s8", "act_min", p->act_min, BNN_ERR_ARG);
    for (r = 0; r < p->rows; ++r) {
        const int8_t *x = in + (size_t)r * (size_t)p->in_features;
        for (o = 0; o < p->out_features; ++o) {
            const int8_t *f = filter + (size_t)o * (size_t)p->in_features;
            const int32_t q = p->per_channel ? o : 0;
            int32_t acc = 0;
            for (i = 0; i < p->in_features; ++i) {
                acc += ((int32_t)x[i] + p->input_offset) * ((int32_t)f[i] + p->filter_offset);
            }
            out[(size_t)r * (size_t)p->out_features + (size_t)o] =
                bnn_s8_output(acc, bias, o, p->out_multiplier[q], p->out_shift[q], p->rounding,
                              p->output_offset, p->act_min, p->act_max);
        }
    }
    return BNN_OK;
}
