/* Dispatch of bconv2d: the one place that chooses a variant (STYLE §6). The optimized
 * kernel (kernels/opt/bnn_bconv2d_opt.c) runs whatever it supports; -DBNN_KERNELS=
 * BNN_KERNELS_REF (0) keeps every call on the reference. */
#include "bnn/bnn_kernels.h"

bnn_status_t bnn_bconv2d(const bnn_bconv2d_params_t *p, const uint32_t *in, const uint32_t *filter, void *out, void *scratch)
{
#if BNN_KERNELS != BNN_KERNELS_REF
    if (bnn_bconv2d_opt_supports(p)) {
        return bnn_bconv2d_opt(p, in, filter, out, scratch);
    }
#endif
    return bnn_bconv2d_ref(p, in, filter, out, scratch);
}

size_t bnn_bconv2d_scratch_size(const bnn_bconv2d_params_t *p)
{
    (void)p; /* neither the reference nor the optimized kernel needs any */
    return 0u;
}
