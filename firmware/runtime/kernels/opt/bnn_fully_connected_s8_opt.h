/**
 * @file bnn_fully_connected_s8_opt.h
 * @brief The optimized variant of bnn_fully_connected_s8 (bnn/bnn_kernels.h): same
 *        signature and params, bit-exact with bnn_fully_connected_s8_ref on every p it
 *        supports. Declared here (internal) for the dispatcher and the tests.
 */
#ifndef BNN_FULLY_CONNECTED_S8_OPT_H
#define BNN_FULLY_CONNECTED_S8_OPT_H

#include "bnn/bnn_kernels.h"

/**
 * @brief 1 when bnn_fully_connected_s8_opt() handles p: input_offset and filter_offset in
 *        [-128, 128] (the offset inputs fit int16 lanes) and in_features <= 65536 (the
 *        partial sums fit int32).
 */
int bnn_fully_connected_s8_opt_supports(const bnn_fully_connected_s8_params_t *p);

/** @brief As bnn_fully_connected_s8_ref; BNN_ERR_UNSUPPORTED when !_supports(p). */
bnn_status_t bnn_fully_connected_s8_opt(const bnn_fully_connected_s8_params_t *p,
                                        const int8_t *in, const int8_t *filter,
                                        const int32_t *bias, int8_t *out);

#endif /* BNN_FULLY_CONNECTED_S8_OPT_H */
