/* Dispatch of bconv2d: the one place that chooses a variant. Today only the reference
 * exists; an optimized variant adds `if (bnn_bconv2d_opt_supports(p)) return bnn_bconv2d_opt(...);`
 * under `#if BNN_KERNELS != BNN_KERNELS_REF` here (STYLE §6). */
#include "bnn/bnn_kernels.h"

bnn_status_t bnn_bconv2d(const bnn_bconv2d_params_t *p, const uint32_t *in, const uint32_t *filter, void *out, void *scratch)
{
    return bnn_bconv2d_ref(p, in, filter, out, scratch);
}

size_t bnn_bconv2d_scratch_size(const bnn_bconv2d_params_t *p)
{
    (void)p; /* the reference kernel needs none */
    return 0u;
}
