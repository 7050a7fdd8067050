/* CONCATENATION along any axis: for every outer index, the inputs' blocks one after another. */
#include <string.h>

#include "../../src/bnn_internal.h"

bnn_status_t bnn_concatenation_ref(const bnn_concatenation_params_t *p,
                                   const void *const *inputs, void *out)
{
    int32_t o, i;
    unsigned char *y = (unsigned char *)out;
    BNN_ENSURE(p->n_inputs >= 1, "concatenation", "n_inputs", p->n_inputs, BNN_ERR_ARG);
    BNN_ENSURE(p->outer >= 1, "concatenation", "outer", p->outer, BNN_ERR_ARG);
    for (i = 0; i < p->n_inputs; ++i) {
        BNN_ENSURE(p->inner_bytes[i] >= 0, "concatenation", "inner_bytes[i]", p->inner_bytes[i],
                   BNN_ERR_ARG);
    }
    for (o = 0; o < p->outer; ++o) {
        for (i = 0; i < p->n_inputs; ++i) {
            const size_t nb = (size_t)p->inner_bytes[i];
            memcpy(y, (const unsigned char *)inputs[i] + (size_t)o * nb, nb);
            y += nb;
        }
    }
    return BNN_OK;
}
