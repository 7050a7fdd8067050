/* int8 table lookup (LOGISTIC, TANH, ... with a table generated offline). */
#include "../../src/bnn_internal.h"

bnn_status_t bnn_lut_s8_ref(const bnn_lut_s8_params_t *p, const int8_t *in, int8_t *out)
{
    int32_t i;
    BNN_ENSURE(p->count >= 1, "lut", "count", p->count, BNN_ERR_ARG);
    BNN_ENSURE(p->table != NULL, "lut", "table", 0, BNN_ERR_ARG);
    for (i = 0; i < p->count; ++i) {
        out[i] = p->table[(int32_t)in[i] + 128];
    }
    return BNN_OK;
}
