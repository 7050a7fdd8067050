/**
 * @file bnn_conv2d_pool_quantize_opt.h
 * @brief The optimized variant of bnn_conv2d_pool_quantize (bnn/bnn_fused.h): same
 *        signature and params, bit-exact with bnn_conv2d_pool_quantize_ref on every p it
 *        supports. Declared here (internal) for the dispatcher and the tests.
 */
#ifndef BNN_CONV2D_POOL_QUANTIZE_OPT_H
#define BNN_CONV2D_POOL_QUANTIZE_OPT_H

#include "bnn/bnn_fused.h"

/**
 * @brief 1 when bnn_conv2d_pool_quantize_opt() handles p: an LceBconv2d source (float or
 *        int8 output, one or integer-zero padding, one group, KH * KW * words <= 160, 72
 *        on cores without an FPU) or a float CONV_2D with float or +-scale packed
 *        weights (one group, KH * KW * C_in <= 32; on cores without an FPU
 *        KH * KW * C_in <= 9 and only with a max-pool or a binary pool); any stages,
 *        pools and packing.
 */
int bnn_conv2d_pool_quantize_opt_supports(const bnn_fused_params_t *p);

/** @brief As bnn_conv2d_pool_quantize_ref; BNN_ERR_UNSUPPORTED when !_supports(p). */
bnn_status_t bnn_conv2d_pool_quantize_opt(const bnn_fused_params_t *p, const void *in,
                                          uint32_t *out);

#endif /* BNN_CONV2D_POOL_QUANTIZE_OPT_H */
