/**
 * @file bnn.h
 * @brief Umbrella header of the bnn-lq C runtime: include this one.
 *
 * The runtime is portable C99 with no dynamic allocation. Generated model code
 * (bnn_lq.convert.codegen) calls the kernels of bnn_kernels.h as plain functions, with
 * parameter structs filled from constants and tensors placed in one static arena.
 * Build with -std=c99 -ffp-contract=off; link kernels/, kernels/ref/, kernels/opt/, src/.
 *
 * Example:
 *   static const bnn_quantize_params_t q = {.rows = 64, .channels = 33, .zero_point = 0};
 *   bnn_status_t st = bnn_quantize_f32(&q, x, bits);
 *   if (st != BNN_OK) { bnn_port_write(bnn_status_name(st)); }
 */
#ifndef BNN_H
#define BNN_H

#include "bnn/bnn_types.h"
#include "bnn/bnn_kernels.h"
#include "bnn/bnn_fused.h"

/** Runtime version, "MAJOR.MINOR.PATCH". */
#define BNN_RUNTIME_VERSION "0.1.0"

#endif /* BNN_H */
