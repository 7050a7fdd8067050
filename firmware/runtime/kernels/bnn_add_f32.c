/* Dispatch of add_f32: the one place that chooses a variant. Today only the reference
 * exists; an optimized variant adds `if (bnn_add_f32_opt_supports(p)) return bnn_add_f32_opt(...);`
 * under `#if BNN_KERNELS != BNN_KERNELS_REF` here (STYLE §6). */
#include "bnn/bnn_kernels.h"

bnn_status_t bnn_add_f32(const bnn_binary_f32_params_t *p, const float *a, const float *b, float *out)
{
    return bnn_add_f32_ref(p, a, b, out);
}
