/* TFLite / gemmlowp fixed-point arithmetic, written from its definition. */
#include "bnn/bnn_kernels.h"

int32_t bnn_srdhm(int32_t a, int32_t b)
{
    /* Q31 x Q31 -> Q31 with rounding half away from zero: nudge = +-2^30, then the high
     * 32 bits of 2*a*b, i.e. (a*b + nudge) / 2^31 truncated toward zero. The one product
     * that overflows, INT32_MIN * INT32_MIN, saturates to INT32_MAX. */
    int64_t ab;
    int64_t nudge;
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

int32_t bnn_rdbpot(int32_t x, int32_t exponent)
{
    /* x / 2^exponent, rounding half away from zero: floor shift, then add one when the
     * remainder exceeds half (or equals half for positive x). */
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t bnn_mbqm(int32_t x, int32_t multiplier, int32_t shift)
{
    /* TFLite MultiplyByQuantizedMultiplier (double rounding, the default build):
     * a left shift happens before the Q31 multiply, a right shift after it. The left shift
     * is done in int64 and wraps like TFLite's int32 multiply would only for |x| >= 2^31
     * / 2^shift, which the callers' ranges exclude. */
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return bnn_rdbpot(bnn_srdhm((int32_t)((int64_t)x * ((int64_t)1 << left)), multiplier), right);
}

int32_t bnn_mbqm_upward(int32_t x, int32_t multiplier, int32_t shift)
{
    /* Same Q31 multiply as bnn_mbqm; the right shift adds half and floors (ties up). The
     * sum is formed in int64 so the rounding offset cannot overflow. */
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int32_t y = bnn_srdhm((int32_t)((int64_t)x * ((int64_t)1 << left)), multiplier);
    if (right == 0) {
        return y;
    }
    return (int32_t)(((int64_t)y + ((int64_t)1 << (right - 1))) >> right);
}
