/* Dispatch of pad_f32: the one place that chooses a variant. Today only the reference
 * exists; an optimized variant adds `if (bnn_pad_f32_opt_supports(p)) return bnn_pad_f32_opt(...);`
 * under `#if BNN_KERNELS != BNN_KERNELS_REF` here (STYLE §6). */
#include "bnn/bnn_kernels.h"

bnn_status_t bnn_pad_f32(const bnn_pad_params_t *p, float pad_value, const float *in, float *out)
{
    return bnn_pad_f32_ref(p, pad_value, in, out);
}
