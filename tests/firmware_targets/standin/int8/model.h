/* Stand-in model written by tests/firmware_targets/standin/make_standin.py (int8). */
#ifndef BNN_MODEL_H
#define BNN_MODEL_H

#define BNN_MODEL_NAME "standin_linear_int8"
#define BNN_MODEL_INPUT_BYTES 16u
#define BNN_MODEL_OUTPUT_BYTES 3u
#define BNN_MODEL_NUM_CLASSES 3u
#define BNN_MODEL_INPUT_IS_INT8 1
#define BNN_MODEL_OUTPUT_IS_INT8 1
#define BNN_MODEL_ARENA_BYTES 12u
#define BNN_MODEL_WEIGHT_BYTES 60u

int bnn_model_invoke(const void *input, void *output);

#endif
