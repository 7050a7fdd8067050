/* Dispatch of depthwise_conv2d_f32: the one place that chooses a variant. Today only the reference
 * exists; an optimized variant adds `if (bnn_depthwise_conv2d_f32_opt_supports(p)) return bnn_depthwise_conv2d_f32_opt(...);`
 * under `#if BNN_KERNELS != BNN_KERNELS_REF` here (STYLE §6). */
#include "bnn/bnn_kernels.h"

bnn_status_t bnn_depthwise_conv2d_f32(const bnn_depthwise_conv2d_f32_params_t *p, const float *in, const float *filter, const float *bias, float *out)
{
    return bnn_depthwise_conv2d_f32_ref(p, in, filter, bias, out);
}
