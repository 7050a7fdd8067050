/* Dispatch of bmaxpool2d: the one place that chooses a variant (STYLE §6);
 * -DBNN_KERNELS=BNN_KERNELS_REF (0) keeps every call on the reference. */
#include "bnn/bnn_kernels.h"

bnn_status_t bnn_bmaxpool2d(const bnn_bmaxpool2d_params_t *p, const uint32_t *in, uint32_t *out)
{
#if BNN_KERNELS != BNN_KERNELS_REF
    if (bnn_bmaxpool2d_opt_supports(p)) {
        return bnn_bmaxpool2d_opt(p, in, out);
    }
#endif
    return bnn_bmaxpool2d_ref(p, in, out);
}
