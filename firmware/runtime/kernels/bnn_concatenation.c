/* Dispatch of concatenation: the one place that chooses a variant. Today only the reference
 * exists; an optimized variant adds `if (bnn_concatenation_opt_supports(p)) return bnn_concatenation_opt(...);`
 * under `#if BNN_KERNELS != BNN_KERNELS_REF` here (STYLE §6). */
#include "bnn/bnn_kernels.h"

bnn_status_t bnn_concatenation(const bnn_concatenation_params_t *p, const void *const *inputs, void *out)
{
    return bnn_concatenation_ref(p, inputs, out);
}
