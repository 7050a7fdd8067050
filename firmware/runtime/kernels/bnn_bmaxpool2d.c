/* Dispatch of bmaxpool2d: the one place that chooses a variant. Today only the reference
 * exists; an optimized variant adds `if (bnn_bmaxpool2d_opt_supports(p)) return bnn_bmaxpool2d_opt(...);`
 * under `#if BNN_KERNELS != BNN_KERNELS_REF` here (STYLE §6). */
#include "bnn/bnn_kernels.h"

bnn_status_t bnn_bmaxpool2d(const bnn_bmaxpool2d_params_t *p, const uint32_t *in, uint32_t *out)
{
    return bnn_bmaxpool2d_ref(p, in, out);
}
