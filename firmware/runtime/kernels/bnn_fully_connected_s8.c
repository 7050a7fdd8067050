/* Dispatch of fully_connected_s8: the one place that chooses a variant. Today only the reference
 * exists; an optimized variant adds `if (bnn_fully_connected_s8_opt_supports(p)) return bnn_fully_connected_s8_opt(...);`
 * under `#if BNN_KERNELS != BNN_KERNELS_REF` here (STYLE §6). */
#include "bnn/bnn_kernels.h"

bnn_status_t bnn_fully_connected_s8(const bnn_fully_connected_s8_params_t *p, const int8_t *in, const int8_t *filter, const int32_t *bias, int8_t *out)
{
    return bnn_fully_connected_s8_ref(p, in, filter, bias, out);
}
