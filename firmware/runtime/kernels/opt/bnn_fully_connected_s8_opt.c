/* FULLY_CONNECTED int8, optimized: bit-exact with bnn_fully_connected_s8_ref on every p
 * that bnn_fully_connected_s8_opt_supports() accepts.
 *
 * Why it is faster than the reference:
 * 1. Four output features per pass over the input row: each input word (four int8 values,
 *    widened once with the input offset added) serves four filter rows. On cores with the
 *    DSP extension the words are widened with SXTB16 into (x0, x2) and (x1, x3) int16 lanes
 *    (plus SADD16 for the offset), the weights likewise, and each SMLAD does two
 *    multiply-accumulates (bnn_s8_mac_opt.h). The in_features % 4 trailing elements are
 *    summed one by one. Missing features of the last block of four reuse the last filter
 *    row and their results are dropped.
 * 2. A filter offset (zero for TFLite's symmetric int8 weights) is folded out of the loop:
 *    sum (x + xo) * (w + fo) = sum (x + xo) * w + fo * sum (x + xo), the second sum once
 *    per row. Integer sums are exact, so only their order differs from the reference.
 * The bias, requantization (bnn_requant), output offset and clamp are the reference's.
 */
#include "../../src/bnn_internal.h"
#include "bnn_fully_connected_s8_opt.h"
#include "bnn_s8_mac_opt.h"

int bnn_fully_connected_s8_opt_supports(const bnn_fully_connected_s8_params_t *p)
{
    return p != NULL && p->input_offset >= -128 && p->input_offset <= 128
           && p->filter_offset >= -128 && p->filter_offset <= 128 && p->in_features <= 65536;
}

/* acc[j] = sum_i (x[i] + xo) * f_j[i] for four filter rows. */
static void dot_1x4(const int8_t *x, int32_t xo, const int8_t *f0, const int8_t *f1,
                    const int8_t *f2, const int8_t *f3, int32_t n, int32_t acc[4])
{
    const int32_t full = n >> 2;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int32_t j, t;
#if BNN_S8_OPT_DSP
    const int32_t xo2 = (int32_t)(((uint32_t)xo & 0xFFFFu) | ((uint32_t)xo << 16));
    for (j = 0; j < full; ++j, x += 4, f0 += 4, f1 += 4, f2 += 4, f3 += 4) {
        const int32_t v = bnn_s8_ld32(x);
        const int32_t xe = bnn_s8_add16(bnn_s8_even(v), xo2);
        const int32_t xd = bnn_s8_add16(bnn_s8_odd(v), xo2);
        int32_t u = bnn_s8_ld32(f0);
        a0 = bnn_s8_smlad(xe, bnn_s8_even(u), a0);
        a0 = bnn_s8_smlad(xd, bnn_s8_odd(u), a0);
        u = bnn_s8_ld32(f1);
        a1 = bnn_s8_smlad(xe, bnn_s8_even(u), a1);
        a1 = bnn_s8_smlad(xd, bnn_s8_odd(u), a1);
        u = bnn_s8_ld32(f2);
        a2 = bnn_s8_smlad(xe, bnn_s8_even(u), a2);
        a2 = bnn_s8_smlad(xd, bnn_s8_odd(u), a2);
        u = bnn_s8_ld32(f3);
        a3 = bnn_s8_smlad(xe, bnn_s8_even(u), a3);
        a3 = bnn_s8_smlad(xd, bnn_s8_odd(u), a3);
    }
#else
    for (j = 0; j < full; ++j, x += 4, f0 += 4, f1 += 4, f2 += 4, f3 += 4) {
        const int32_t x0 = x[0] + xo, x1 = x[1] + xo, x2 = x[2] + xo, x3 = x[3] + xo;
        a0 += x0 * f0[0] + x1 * f0[1] + x2 * f0[2] + x3 * f0[3];
        a1 += x0 * f1[0] + x1 * f1[1] + x2 * f1[2] + x3 * f1[3];
        a2 += x0 * f2[0] + x1 * f2[1] + x2 * f2[2] + x3 * f2[3];
        a3 += x0 * f3[0] + x1 * f3[1] + x2 * f3[2] + x3 * f3[3];
    }
#endif
    for (t = 0; t < (n & 3); ++t) {
        const int32_t xv = (int32_t)x[t] + xo;
        a0 += xv * f0[t];
        a1 += xv * f1[t];
        a2 += xv * f2[t];
        a3 += xv * f3[t];
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

bnn_status_t bnn_fully_connected_s8_opt(const bnn_fully_connected_s8_params_t *p,
                                        const int8_t *in, const int8_t *filter,
                                        const int32_t *bias, int8_t *out)
{
    const int32_t nin = p != NULL ? p->in_features : 0;
    int32_t r, o, j, i;
    if (!bnn_fully_connected_s8_opt_supports(p)) {
        return BNN_ERR_UNSUPPORTED;
    }
    /* The reference's checks, so errors are the same. */
    BNN_ENSURE(p->rows >= 1, "fully_connected_s8", "rows", p->rows, BNN_ERR_ARG);
    BNN_ENSURE(p->in_features >= 1, "fully_connected_s8", "in_features", p->in_features,
               BNN_ERR_ARG);
    BNN_ENSURE(p->out_features >= 1, "fully_connected_s8", "out_features", p->out_features,
               BNN_ERR_ARG);
    BNN_ENSURE(p->out_multiplier != NULL && p->out_shift != NULL, "fully_connected_s8",
               "out_multiplier", 0, BNN_ERR_ARG);
    BNN_ENSURE(p->act_min >= -128 && p->act_min <= p->act_max && p->act_max <= 127,
               "fully_connected_s8", "act_min", p->act_min, BNN_ERR_ARG);
    for (r = 0; r < p->rows; ++r) {
        const int8_t *x = in + (size_t)r * (size_t)nin;
        int32_t fold = 0; /* filter_offset * sum (x + input_offset), 0 when no offset */
        if (p->filter_offset != 0) {
            int32_t sx = 0;
            for (i = 0; i < nin; ++i) {
                sx += (int32_t)x[i] + p->input_offset;
            }
            fold = p->filter_offset * sx;
        }
        for (o = 0; o < p->out_features; o += 4) {
            const int8_t *f[4];
            int32_t acc[4];
            for (j = 0; j < 4; ++j) {
                const int32_t oj = o + j < p->out_features ? o + j : p->out_features - 1;
                f[j] = filter + (size_t)oj * (size_t)nin;
            }
            dot_1x4(x, p->input_offset, f[0], f[1], f[2], f[3], nin, acc);
            for (j = 0; j < 4 && o + j < p->out_features; ++j) {
                const int32_t oj = o + j;
                const int32_t q = p->per_channel ? oj : 0;
                /* uint32 so that the split sum wraps exactly like one int32 sum would. Then
                 * bnn_s8_output's statements (bnn_internal.h), written out: the shared inline
                 * cost this kernel instructions on the M4 (see bnn_conv2d_s8_opt.c). */
                int32_t a = (int32_t)((uint32_t)acc[j] + (uint32_t)fold);
                if (bias != NULL) {
                    a += bias[oj];
                }
                a = bnn_requant(a, p->out_multiplier[q], p->out_shift[q], p->rounding);
                a += p->output_offset;
                out[(size_t)r * (size_t)p->out_features + (size_t)oj] =
                    (int8_t)bnn_clamp_i32(a, p->act_min, p->act_max);
            }
        }
    }
    return BNN_OK;
}
