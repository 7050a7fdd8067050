/* RESHAPE and other pure re-interpretations: a byte copy (nothing when aliased). */
#include <string.h>

#include "bnn/bnn_kernels.h"

bnn_status_t bnn_copy(void *dst, const void *src, size_t bytes)
{
    if (dst != src && bytes > 0u) {
        memmove(dst, src, bytes);
    }
    return BNN_OK;
}
