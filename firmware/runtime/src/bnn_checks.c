/* Parameter checks shared by several kernels. */
#include "bnn_internal.h"

bnn_status_t bnn_check_window(const bnn_window_t *w, const char *op)
{
    BNN_ENSURE(w->batch >= 1, op, "batch", w->batch, BNN_ERR_ARG);
    BNN_ENSURE(w->in_h >= 1, op, "in_h", w->in_h, BNN_ERR_ARG);
    BNN_ENSURE(w->in_w >= 1, op, "in_w", w->in_w, BNN_ERR_ARG);
    BNN_ENSURE(w->out_h >= 1, op, "out_h", w->out_h, BNN_ERR_ARG);
    BNN_ENSURE(w->out_w >= 1, op, "out_w", w->out_w, BNN_ERR_ARG);
    BNN_ENSURE(w->kernel_h >= 1, op, "kernel_h", w->kernel_h, BNN_ERR_ARG);
    BNN_ENSURE(w->kernel_w >= 1, op, "kernel_w", w->kernel_w, BNN_ERR_ARG);
    BNN_ENSURE(w->stride_h >= 1, op, "stride_h", w->stride_h, BNN_ERR_ARG);
    BNN_ENSURE(w->stride_w >= 1, op, "stride_w", w->stride_w, BNN_ERR_ARG);
    BNN_ENSURE(w->dilation_h >= 1, op, "dilation_h", w->dilation_h, BNN_ERR_ARG);
    BNN_ENSURE(w->dilation_w >= 1, op, "dilation_w", w->dilation_w, BNN_ERR_ARG);
    BNN_ENSURE(w->pad_top >= 0, op, "pad_top", w->pad_top, BNN_ERR_ARG);
    BNN_ENSURE(w->pad_left >= 0, op, "pad_left", w->pad_left, BNN_ERR_ARG);
    /* The last output row / column must start inside the padded input. */
    BNN_ENSURE((w->out_h - 1) * w->stride_h - w->pad_top < w->in_h, op, "out_h", w->out_h,
               BNN_ERR_ARG);
    BNN_ENSURE((w->out_w - 1) * w->stride_w - w->pad_left < w->in_w, op, "out_w", w->out_w,
               BNN_ERR_ARG);
    return BNN_OK;
}

bnn_status_t bnn_check_broadcast(const bnn_broadcast_t *bc, const char *op)
{
    int k;
    for (k = 0; k < 4; ++k) {
        BNN_ENSURE(bc->out_shape[k] >= 1, op, "out_shape[k]", bc->out_shape[k], BNN_ERR_ARG);
        BNN_ENSURE(bc->in1_stride[k] >= 0, op, "in1_stride[k]", bc->in1_stride[k], BNN_ERR_ARG);
        BNN_ENSURE(bc->in2_stride[k] >= 0, op, "in2_stride[k]", bc->in2_stride[k], BNN_ERR_ARG);
    }
    return BNN_OK;
}
