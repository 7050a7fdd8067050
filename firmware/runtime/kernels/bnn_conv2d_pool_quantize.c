/* Dispatch of conv2d_pool_quantize: the one place that chooses a variant (STYLE §6). The
 * optimized kernel (kernels/opt/bnn_conv2d_pool_quantize_opt.c) runs the chains it supports
 * (LceBconv2d or +-scale float CONV_2D sources); -DBNN_KERNELS=BNN_KERNELS_REF (0) keeps
 * every call on the reference. */
#include "bnn/bnn_fused.h"
#include "opt/bnn_conv2d_pool_quantize_opt.h"

bnn_status_t bnn_conv2d_pool_quantize(const bnn_fused_params_t *p, const void *in,
                                      uint32_t *out)
{
#if BNN_KERNELS != BNN_KERNELS_REF
    if (bnn_conv2d_pool_quantize_opt_supports(p)) {
        return bnn_conv2d_pool_quantize_opt(p, in, out);
    }
#endif
    return bnn_conv2d_pool_quantize_ref(p, in, out);
}
