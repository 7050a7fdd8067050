/**
 * @file bnn_profile.h
 * @brief Optional per-operator profiling hooks of the generated model code.
 *
 * The code generator wraps every kernel call of bnn_model_invoke() in
 *
 *     BNN_OP_BEGIN(index, "OPNAME");
 *     st = bnn_<op>(...);
 *     BNN_OP_END(index);
 *
 * where index is the operator's index in the .tflite graph and OPNAME its TFLite / LCE name
 * (a fused step names its chain: "CONV_2D+MAX_POOL_2D+LceQuantize"). By default the macros
 * expand to nothing, so a normal build is unchanged. With -DBNN_PROFILE they call two
 * functions that the application defines (firmware/app/main.c accumulates bnn_port_cycles()
 * per operator and prints a per-op table before its BNN RESULT line):
 *
 *     BNN PROFILE op=<index> name=<OPNAME> calls=<n> <unit>=<total / calls>
 *
 * Any other application that links a model built with -DBNN_PROFILE must define them too.
 */
#ifndef BNN_PROFILE_H
#define BNN_PROFILE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef BNN_PROFILE
/** Called right before operator @p index runs; @p name is a string literal. */
void bnn_profile_begin(uint32_t index, const char *name);
/** Called right after operator @p index returned (also when it failed). */
void bnn_profile_end(uint32_t index);
#define BNN_OP_BEGIN(index, name) bnn_profile_begin((uint32_t)(index), (name))
#define BNN_OP_END(index) bnn_profile_end((uint32_t)(index))
#else
#define BNN_OP_BEGIN(index, name) ((void)0)
#define BNN_OP_END(index) ((void)0)
#endif

#ifdef __cplusplus
}
#endif

#endif /* BNN_PROFILE_H */
