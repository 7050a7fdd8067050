/* Dispatch of fully_connected_s8: the one place that chooses a variant (STYLE §6). The
 * optimized kernel (kernels/opt/bnn_fully_connected_s8_opt.c: SMLAD on cores with the DSP
 * extension, blocked C elsewhere) runs whatever it supports; -DBNN_KERNELS=BNN_KERNELS_REF
 * (0) keeps every call on the reference. */
#include "bnn/bnn_kernels.h"
#include "opt/bnn_fully_connected_s8_opt.h"

bnn_status_t bnn_fully_connected_s8(const bnn_fully_connected_s8_params_t *p, const int8_t *in, const int8_t *filter, const int32_t *bias, int8_t *out)
{
#if BNN_KERNELS != BNN_KERNELS_REF
    if (bnn_fully_connected_s8_opt_supports(p)) {
        return bnn_fully_connected_s8_opt(p, in, filter, bias, out);
    }
#endif
    return bnn_fully_connected_s8_ref(p, in, filter, bias, out);
}
