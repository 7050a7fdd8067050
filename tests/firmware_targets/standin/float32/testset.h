/* Stand-in model written by tests/firmware_targets/standin/make_standin.py (float32). */
#ifndef BNN_TESTSET_H
#define BNN_TESTSET_H

#include "model.h"

#define BNN_TESTSET_COUNT 12u

extern const unsigned char bnn_testset_images[BNN_TESTSET_COUNT][BNN_MODEL_INPUT_BYTES];
extern const unsigned char bnn_testset_labels[BNN_TESTSET_COUNT];
extern const unsigned char bnn_testset_oracle[BNN_TESTSET_COUNT];

#endif
