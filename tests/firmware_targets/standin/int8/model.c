/* Stand-in model written by tests/firmware_targets/standin/make_standin.py (int8). */
#include "model.h"

static const signed char w[48] = {
    -47, -48, 38, -1, 11, 12, 27, -61,
    -2, -46, -13, 54, 6, -55, 5, -48,
    32, 57, 61, 15, 47, -17, -46, 1,
    -8, 20, 63, -29, 45, -47, -20, 36,
    -33, 21, -6, 1, 56, 40, 43, 6,
    61, 61, -47, -38, -25, 6, 41, -3
};
static const long b[3] = { 193, -59, 171 };
static long arena[3];

int bnn_model_invoke(const void *input, void *output)
{
    const signed char *x = (const signed char *)input;
    signed char *y = (signed char *)output;
    for (int c = 0; c < 3; ++c) {
        long acc = b[c];
        for (int i = 0; i < 16; ++i) {
            acc += (long)w[c * 16 + i] * x[i];
        }
        arena[c] = acc;
    }
    for (int c = 0; c < 3; ++c) {
        long v = arena[c] >= 0 ? arena[c] / 16 : -((-arena[c] + 15) / 16); /* floor(acc / 16) */
        y[c] = (signed char)(v > 127 ? 127 : (v < -128 ? -128 : v));
    }
    return 0;
}
