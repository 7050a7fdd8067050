/* Stand-in model written by tests/firmware_targets/standin/make_standin.py (float32). */
#include "model.h"

static const float w[48] = {
    -0.742859602f, -0.00144427514f, 0.202996716f, -0.942622006f, -0.704147816f, 0.856422067f, -0.859158874f, -0.740452111f,
    0.89665693f, 0.243767187f, -0.262013763f, 0.022780044f, 0.325685918f, -0.449382365f, -0.724063873f, 0.57607919f,
    0.34072116f, 0.0247646272f, 0.63347286f, 0.0981505364f, 0.961827278f, -0.590981066f, 0.107460722f, -0.0327506065f,
    -0.293450296f, 0.183190614f, -0.529397547f, 0.604405344f, 0.734667122f, -0.742480636f, -0.0658535883f, -0.445710212f,
    -0.833765984f, 0.791888595f, -0.14010261f, -0.704617381f, 0.346724719f, -0.595567942f, 0.802862167f, -0.565703511f,
    -0.933850646f, -0.598462105f, -0.308504254f, -0.0621836744f, 0.812268674f, 0.394722164f, -0.321358681f, -0.966245592f
};
static const float b[3] = { -0.0680352598f, 0.0992871746f, -0.00805680361f };
static float arena[3];

int bnn_model_invoke(const void *input, void *output)
{
    const float *x = (const float *)input;
    float *y = (float *)output;
    for (int c = 0; c < 3; ++c) {
        float acc = b[c];
        for (int i = 0; i < 16; ++i) {
            acc = acc + w[c * 16 + i] * x[i];
        }
        arena[c] = acc;
    }
    for (int c = 0; c < 3; ++c) {
        y[c] = arena[c];
    }
    return 0;
}
