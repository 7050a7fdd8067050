/* Dispatch of quantize_s8: the one place that chooses a variant. Today only the reference
 * exists; an optimized variant adds `if (bnn_quantize_s8_opt_supports(p)) return bnn_quantize_s8_opt(...);`
 * under `#if BNN_KERNELS != BNN_KERNELS_REF` here (STYLE §6). */
#include "bnn/bnn_kernels.h"

bnn_status_t bnn_quantize_s8(const bnn_quantize_params_t *p, const int8_t *in, uint32_t *out)
{
    return bnn_quantize_s8_ref(p, in, out);
}
