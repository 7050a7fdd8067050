/* Dispatch of quantize_s8: the one place that chooses a variant (STYLE §6);
 * -DBNN_KERNELS=BNN_KERNELS_REF (0) keeps every call on the reference. */
#include "bnn/bnn_kernels.h"

bnn_status_t bnn_quantize_s8(const bnn_quantize_params_t *p, const int8_t *in, uint32_t *out)
{
#if BNN_KERNELS != BNN_KERNELS_REF
    if (bnn_quantize_s8_opt_supports(p)) {
        return bnn_quantize_s8_opt(p, in, out);
    }
#endif
    return bnn_quantize_s8_ref(p, in, out);
}
