/* Dispatch of avg_pool2d_f32: the one place that chooses a variant. Today only the reference
 * exists; an optimized variant adds `if (bnn_avg_pool2d_f32_opt_supports(p)) return bnn_avg_pool2d_f32_opt(...);`
 * under `#if BNN_KERNELS != BNN_KERNELS_REF` here (STYLE §6). */
#include "bnn/bnn_kernels.h"

bnn_status_t bnn_avg_pool2d_f32(const bnn_pool2d_f32_params_t *p, const float *in, float *out)
{
    return bnn_avg_pool2d_f32_ref(p, in, out);
}
