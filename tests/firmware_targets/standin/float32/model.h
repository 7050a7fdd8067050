/* Stand-in model written by tests/firmware_targets/standin/make_standin.py (float32). */
#ifndef BNN_MODEL_H
#define BNN_MODEL_H

#define BNN_MODEL_NAME "standin_linear_float32"
#define BNN_MODEL_INPUT_BYTES 64u
#define BNN_MODEL_OUTPUT_BYTES 12u
#define BNN_MODEL_NUM_CLASSES 3u
#define BNN_MODEL_INPUT_IS_INT8 0
#define BNN_MODEL_OUTPUT_IS_INT8 0
#define BNN_MODEL_ARENA_BYTES 12u
#define BNN_MODEL_WEIGHT_BYTES 204u

int bnn_model_invoke(const void *input, void *output);

#endif
