/* Dispatch of conv2d_pool_quantize: the one place that chooses a variant. Today only the
 * reference exists; an optimized variant adds
 * `if (bnn_conv2d_pool_quantize_opt_supports(p)) return bnn_conv2d_pool_quantize_opt(...);`
 * under `#if BNN_KERNELS != BNN_KERNELS_REF` here (STYLE §6). */
#include "bnn/bnn_fused.h"

bnn_status_t bnn_conv2d_pool_quantize(const bnn_fused_params_t *p, const void *in,
                                      uint32_t *out)
{
    return bnn_conv2d_pool_quantize_ref(p, in, out);
}
