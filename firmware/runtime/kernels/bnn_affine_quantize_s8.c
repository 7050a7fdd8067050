/* Dispatch of affine_quantize_s8: the one place that chooses a variant. Today only the reference
 * exists; an optimized variant adds `if (bnn_affine_quantize_s8_opt_supports(p)) return bnn_affine_quantize_s8_opt(...);`
 * under `#if BNN_KERNELS != BNN_KERNELS_REF` here (STYLE §6). */
#include "bnn/bnn_kernels.h"

bnn_status_t bnn_affine_quantize_s8(const bnn_affine_params_t *p, const float *in, int8_t *out)
{
    return bnn_affine_quantize_s8_ref(p, in, out);
}
