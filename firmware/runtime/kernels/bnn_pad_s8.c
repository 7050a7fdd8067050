/* Dispatch of pad_s8: the one place that chooses a variant. Today only the reference
 * exists; an optimized variant adds `if (bnn_pad_s8_opt_supports(p)) return bnn_pad_s8_opt(...);`
 * under `#if BNN_KERNELS != BNN_KERNELS_REF` here (STYLE §6). */
#include "bnn/bnn_kernels.h"

bnn_status_t bnn_pad_s8(const bnn_pad_params_t *p, int8_t pad_value, const int8_t *in, int8_t *out)
{
    return bnn_pad_s8_ref(p, pad_value, in, out);
}
