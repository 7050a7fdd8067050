/**
 * @file bnn_conv2d_s8_opt.h
 * @brief The optimized variant of bnn_conv2d_s8 (bnn/bnn_kernels.h): same signature and
 *        params, bit-exact with bnn_conv2d_s8_ref on every p it supports. Declared here
 *        (internal) for the dispatcher and the tests.
 */
#ifndef BNN_CONV2D_S8_OPT_H
#define BNN_CONV2D_S8_OPT_H

#include "bnn/bnn_kernels.h"

/**
 * Largest KH * KW * (in_c / groups) the optimized kernel takes: the int16 patch of two
 * output pixels lives on the stack (5 bytes per element: 4 for the patch, 1 for staging).
 * 576 (a 3x3 kernel on 64 channels, 2.9 KB of stack) on Cortex-M cores with the DSP
 * extension, 64 on the other Cortex-M cores (small stacks), 4608 elsewhere.
 */
#ifndef BNN_CONV2D_S8_OPT_MAX_K
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#if defined(__ARM_FEATURE_DSP)
#define BNN_CONV2D_S8_OPT_MAX_K 576
#else
#define BNN_CONV2D_S8_OPT_MAX_K 64
#endif
#else
#define BNN_CONV2D_S8_OPT_MAX_K 4608
#endif
#endif

/**
 * @brief 1 when bnn_conv2d_s8_opt() handles p: groups >= 1 dividing in_c, kernel sizes
 *        >= 1, KH * KW * (in_c / groups) <= BNN_CONV2D_S8_OPT_MAX_K, and input_offset in
 *        [-127, 128] (the documented range: the padding value -input_offset is an int8).
 */
int bnn_conv2d_s8_opt_supports(const bnn_conv2d_s8_params_t *p);

/** @brief As bnn_conv2d_s8_ref; BNN_ERR_UNSUPPORTED when !_supports(p). */
bnn_status_t bnn_conv2d_s8_opt(const bnn_conv2d_s8_params_t *p, const int8_t *in,
                               const int8_t *filter, const int32_t *bias, int8_t *out);

#endif /* BNN_CONV2D_S8_OPT_H */
