/* Fused source -> stages -> max-pool -> LceQuantize -> LceBMaxPool2d, optimized
 * (bnn_fused.h): bit-exact with bnn_conv2d_pool_quantize_ref on every p that
 * bnn_conv2d_pool_quantize_opt_supports() accepts (an LceBconv2d source with float or int8
 * output, one or integer-zero padding, one group; or a float CONV_2D, float or +-scale
 * packed weights, one group).
 *
 * Why it is faster than the reference:
 * 1. Channels in blocks of 32 (one output word): for each map pixel a window needs, the
 *    block's 32 source values are computed together into a small float vector, then the
 *    stages, the max-pool, the quantize and the binary pool run on that vector, and the
 *    32 bits land in the output with one OR. The reference re-derives the geometry and
 *    dispatches through switch statements for every single value.
 * 2. LceBconv2d source: the pixel's taps are gathered once into a packed patch (0 words
 *    outside, i.e. one padding) and every channel is a branch-free XOR-popcount over it
 *    with the shared dot products (bnn_bdot_opt.h), two channels per input load; zero
 *    padding subtracts the outside taps' filter counts again, as bnn_bconv2d_opt does.
 *    The output transform is the reference's inline bnn_bconv_transform.
 * 3. Float CONV_2D: the taps' input values are gathered into a float patch (0.0 for outside
 *    taps) and each channel accumulates prod = x[k] * w[k]; acc = acc + prod over it, two
 *    channels per x load, w the float filter row itself. That is bnn_conv2d_f32_ref's
 *    order; the outside zeros change nothing by c. below while every weight is finite
 *    (checked per call; otherwise the call goes to the reference). With +-scale packed
 *    weights w[k] = +1.0f / -1.0f comes from a table built once per block of channels,
 *    bit-identical to bnn_conv2d_binw_f32_ref's "neg ? acc - x : acc + x" in the same order:
 *      a. x * (+-1) = +-x exactly (a sign change; only a NaN's sign may differ, and every
 *         NaN ends as bit 0: max-pool ignores it, the quantize test is false for it);
 *      b. acc + (-x) = acc - x exactly (IEEE defines subtraction so);
 *      c. acc starts at +0 and can never become -0 (a sum is -0 only when both addends
 *         are), so adding the +-0 of an outside tap leaves acc unchanged, as skipping it.
 *    No FMA: the build uses -ffp-contract=off (VMLA, if the compiler picks it, rounds the
 *    product and the sum separately, and the product is exact anyway). Cores without an FPU
 *    keep the float sources on the reference (see _supports: measured slower there).
 * Stages, pooling, quantize and binary pooling copy the reference's statements.
 */
#include <float.h>
#include <string.h>

#include "bnn/bnn_fused.h"
#include "bnn_bdot_opt.h"
#include "bnn_conv2d_pool_quantize_opt.h"

/* Stack limits. Largest packed patch of the LceBconv2d source (KH * KW * words; 4 + 1
 * bytes per word) and largest KH * KW * C_in of the float source (its float patch and the
 * 32 x K sign table: 4 + 128 bytes per unit). Cores without an FPU here are the small ones
 * (M0 with a 2 KB stack, the M3 board with 1.5 KB). */
#if defined(__arm__) && !defined(__ARM_FP)
#define BNN_FUSED_OPT_SMALL_STACK 1
#else
#define BNN_FUSED_OPT_SMALL_STACK 0
#endif
#ifndef BNN_FUSED_OPT_PATCH_WORDS
#define BNN_FUSED_OPT_PATCH_WORDS (BNN_FUSED_OPT_SMALL_STACK ? 72 : 160)
#endif
#ifndef BNN_FUSED_OPT_MAX_K
#define BNN_FUSED_OPT_MAX_K (BNN_FUSED_OPT_SMALL_STACK ? 1 : 32) /* float sources declined */
#endif

#define BLK 32

/* What one call needs while walking the map; built once per call / channel block. */
typedef struct {
    const bnn_fused_params_t *p;
    const void *in;
    int32_t c0; /* first channel of the block */
    int32_t nc; /* channels in the block, 1..32 */
    /* LceBconv2d source */
    int32_t words_in, words_g, taps, kw;
    /* float source */
    int32_t k; /* KH * KW * C_in */
    float sg[BLK * BNN_FUSED_OPT_MAX_K]; /* +-scale weights: +-1.0f, [channel in block][k] */
} ctx_t;

/* bnn_quantize_f32_ref's rule: bit = (x <= -FLT_MIN), decided on the bit pattern. */
BNN_OPT_INLINE uint32_t sign_bit(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return (u >= 0x80800000u && u <= 0xFF800000u) ? 1u : 0u;
}

/* ---- LceBconv2d source ---- */

/* v[b] = source value of channel c0 + b at map pixel (n, oy, ox), b < nc. */
static void bconv_block(const ctx_t *cx, int32_t n, int32_t oy, int32_t ox, float *v)
{
    const bnn_fused_params_t *p = cx->p;
    const bnn_bconv2d_params_t *bp = p->bconv;
    const bnn_window_t *w = &bp->win;
    const uint32_t *in = (const uint32_t *)cx->in;
    const uint32_t *filter = (const uint32_t *)p->filter;
    const int32_t iy0 = oy * w->stride_h - w->pad_top;
    const int32_t ix0 = ox * w->stride_w - w->pad_left;
    const int32_t cg = bp->channels_in;
    uint32_t patch[BNN_FUSED_OPT_PATCH_WORDS];
    uint8_t outside[BNN_FUSED_OPT_PATCH_WORDS]; /* 1 per outside tap (zero padding) */
    int32_t fy, fx, j, b, t = 0, n_out = 0;
    uint32_t *dst = patch;
    for (fy = 0; fy < w->kernel_h; ++fy) {
        const int32_t iy = iy0 + fy * w->dilation_h;
        const int row_in = iy >= 0 && iy < w->in_h;
        for (fx = 0; fx < w->kernel_w; ++fx, ++t, dst += cx->words_g) {
            const int32_t ix = ix0 + fx * w->dilation_w;
            if (row_in && ix >= 0 && ix < w->in_w) {
                const uint32_t *src = in + (((size_t)n * (size_t)w->in_h + (size_t)iy)
                                                * (size_t)w->in_w + (size_t)ix)
                                               * (size_t)cx->words_in;
                for (j = 0; j < cx->words_g; ++j) {
                    dst[j] = src[j];
                }
                outside[t] = 0;
            } else {
                for (j = 0; j < cx->words_g; ++j) {
                    dst[j] = 0u;
                }
                outside[t] = 1;
                ++n_out;
            }
        }
    }
    if (bp->pad_mode != BNN_BPAD_ZERO_INT) {
        n_out = 0; /* one padding: the 0 words are the padding */
    }
    for (b = 0; b < cx->nc;) {
        const int32_t bn = cx->nc - b >= 2 ? 2 : 1;
        int32_t acc[4] = {0, 0, 0, 0};
        int32_t i;
        const uint32_t *f = filter + (size_t)(cx->c0 + b) * (size_t)cx->kw;
        bnn_opt_dot_block(bn, patch, f, cx->kw, acc);
        for (i = 0; i < bn; ++i) {
            const int32_t c = cx->c0 + b + i;
            int32_t x2;
            float y;
            if (n_out > 0) {
                const uint32_t *fc = f + (size_t)i * (size_t)cx->kw;
                for (t = 0; t < cx->taps; ++t) {
                    if (outside[t]) {
                        acc[i] -= bnn_opt_count(fc + (size_t)t * (size_t)cx->words_g,
                                                cx->words_g);
                    }
                }
            }
            x2 = 2 * acc[i] + n_out * cg;
            y = bnn_bconv_transform(x2, bp->clamp_min, bp->clamp_max, bp->mul[c], bp->bias[c]);
            v[b + i] = bp->out_type == BNN_OUT_S8 ? (float)bnn_opt_round_sat_s8(y) : y;
        }
        b += bn;
    }
}

/* ---- float CONV_2D source (float weights or +-scale packed weights) ---- */

/* +-scale weights: the block's sign table, row b = channel c0 + b, entry kk = (fy * KW + fx)
 * * C_in + ci (the float filter's own layout, so both sources share the loops below). */
static void binw_signs(ctx_t *cx)
{
    const bnn_fused_params_t *p = cx->p;
    const int32_t cin = p->conv_f32->in_c;
    const int32_t words_g = BNN_WORDS(cin);
    const int32_t taps = cx->k / cin;
    int32_t b, t, ci;
    for (b = 0; b < cx->nc; ++b) {
        const uint32_t *f = (const uint32_t *)p->filter
                            + (size_t)(cx->c0 + b) * (size_t)taps * (size_t)words_g;
        for (t = 0; t < taps; ++t, f += words_g) {
            for (ci = 0; ci < cin; ++ci) {
                const int neg = (int)((f[ci / 32] >> (ci % 32)) & 1u);
                cx->sg[b * cx->k + t * cin + ci] = neg ? -1.0f : 1.0f;
            }
        }
    }
}

/* acc[b] = sum over kk of x[kk] * wt[b * k + kk], in kk order, two channels per x load:
 * prod = x * w; acc = acc + prod, as bnn_conv2d_f32_ref (and, with w = +-1, exactly
 * "neg ? acc - x : acc + x" of bnn_conv2d_binw_f32_ref: see the file comment). */
static void acc_mul(const float *wt, int32_t k, int32_t nc, const float *x, float *acc)
{
    int32_t b, kk;
    if (k == 9) {
        /* 3x3 on one input channel (a first layer): the nine inputs stay in registers. */
        const float x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5],
                    x6 = x[6], x7 = x[7], x8 = x[8];
        for (b = 0; b < nc; ++b, wt += 9) {
            float a = 0.0f, pr;
            pr = x0 * wt[0]; a = a + pr;
            pr = x1 * wt[1]; a = a + pr;
            pr = x2 * wt[2]; a = a + pr;
            pr = x3 * wt[3]; a = a + pr;
            pr = x4 * wt[4]; a = a + pr;
            pr = x5 * wt[5]; a = a + pr;
            pr = x6 * wt[6]; a = a + pr;
            pr = x7 * wt[7]; a = a + pr;
            pr = x8 * wt[8]; a = a + pr;
            acc[b] = a;
        }
        return;
    }
    for (b = 0; b + 2 <= nc; b += 2) {
        const float *s0 = wt + (size_t)b * (size_t)k;
        const float *s1 = s0 + k;
        float a0 = 0.0f, a1 = 0.0f;
        for (kk = 0; kk < k; ++kk) {
            const float xv = x[kk];
            const float p0 = xv * s0[kk];
            const float p1 = xv * s1[kk];
            a0 = a0 + p0;
            a1 = a1 + p1;
        }
        acc[b] = a0;
        acc[b + 1] = a1;
    }
    for (; b < nc; ++b) {
        const float *s0 = wt + (size_t)b * (size_t)k;
        float a0 = 0.0f;
        for (kk = 0; kk < k; ++kk) {
            const float p0 = x[kk] * s0[kk];
            a0 = a0 + p0;
        }
        acc[b] = a0;
    }
}

/* v[b] = source value of channel c0 + b at map pixel (n, oy, ox). */
static void fconv_block(const ctx_t *cx, int32_t n, int32_t oy, int32_t ox, float *v)
{
    const bnn_fused_params_t *p = cx->p;
    const bnn_conv2d_f32_params_t *cp = p->conv_f32;
    const bnn_window_t *w = &cp->win;
    const float *in = (const float *)cx->in;
    const float *bias = (const float *)p->bias;
    const int32_t cin = cp->in_c;
    float x[BNN_FUSED_OPT_MAX_K];
    int32_t fy, fx, ci, b, kk = 0;
    for (fy = 0; fy < w->kernel_h; ++fy) {
        const int32_t iy = oy * w->stride_h - w->pad_top + fy * w->dilation_h;
        const int row_in = iy >= 0 && iy < w->in_h;
        for (fx = 0; fx < w->kernel_w; ++fx) {
            const int32_t ix = ox * w->stride_w - w->pad_left + fx * w->dilation_w;
            if (row_in && ix >= 0 && ix < w->in_w) {
                const float *src = in + (((size_t)n * (size_t)w->in_h + (size_t)iy)
                                             * (size_t)w->in_w + (size_t)ix) * (size_t)cin;
                for (ci = 0; ci < cin; ++ci) {
                    x[kk++] = src[ci];
                }
            } else {
                for (ci = 0; ci < cin; ++ci) {
                    x[kk++] = 0.0f;
                }
            }
        }
    }
    if (p->src == BNN_FUSED_CONV_F32) {
        acc_mul((const float *)p->filter + (size_t)cx->c0 * (size_t)cx->k, cx->k, cx->nc, x, v);
        for (b = 0; b < cx->nc; ++b) {
            float acc = v[b];
            if (bias != NULL) {
                acc = acc + bias[cx->c0 + b];
            }
            v[b] = bnn_clamp_f(acc, cp->act_min, cp->act_max);
        }
        return;
    }
    acc_mul(cx->sg, cx->k, cx->nc, x, v);
    for (b = 0; b < cx->nc; ++b) {
        const int32_t c = cx->c0 + b;
        float y = v[b] * p->scale[c];
        if (bias != NULL) {
            y = y + bias[c];
        }
        v[b] = bnn_clamp_f(y, cp->act_min, cp->act_max);
    }
}

/* ---- the chain ---- */

/* Source values after the stages, channels c0 .. c0 + nc - 1 at map pixel (n, y, x). */
static void map_block(const ctx_t *cx, int32_t n, int32_t y, int32_t x, float *v)
{
    const bnn_fused_params_t *p = cx->p;
    int32_t s, b;
    if (p->src == BNN_FUSED_BCONV) {
        bconv_block(cx, n, y, x, v);
    } else {
        fconv_block(cx, n, y, x, v);
    }
    for (s = 0; s < p->n_stages; ++s) {
        const bnn_fused_stage_t *st = &p->stages[s];
        for (b = 0; b < cx->nc; ++b) {
            const int32_t c = cx->c0 + b;
            const float k = st->c != NULL ? st->c[st->per_channel ? c : 0] : 0.0f;
            const float xv = v[b];
            float r;
            switch (st->op) {
            case BNN_FUSED_MUL:
                r = xv * k;
                break;
            case BNN_FUSED_ADD:
                r = xv + k;
                break;
            case BNN_FUSED_SUB_XC:
                r = xv - k;
                break;
            case BNN_FUSED_SUB_CX:
                r = k - xv;
                break;
            default:
                r = xv;
                break;
            }
            v[b] = bnn_clamp_f(r, st->act_min, st->act_max);
        }
    }
}

/* Bits (bit b = channel c0 + b) of the pooled, quantized map at (n, y, x). */
static uint32_t pooled_bits(const ctx_t *cx, int32_t n, int32_t y, int32_t x)
{
    const bnn_fused_params_t *p = cx->p;
    float v[BLK];
    uint32_t bits = 0u;
    int32_t b;
    if (p->has_pool) {
        const bnn_window_t *w = &p->pool;
        const int32_t y0 = y * w->stride_h - w->pad_top;
        const int32_t x0 = x * w->stride_w - w->pad_left;
        const int32_t fy0 = bnn_max_i32(0, -y0);
        const int32_t fy1 = bnn_min_i32(w->kernel_h, w->in_h - y0);
        const int32_t fx0 = bnn_max_i32(0, -x0);
        const int32_t fx1 = bnn_min_i32(w->kernel_w, w->in_w - x0);
        const float init = p->quant_s8 ? -128.0f : -FLT_MAX;
        float e[BLK];
        int32_t fy, fx;
        for (b = 0; b < cx->nc; ++b) {
            v[b] = init;
        }
        for (fy = fy0; fy < fy1; ++fy) {
            for (fx = fx0; fx < fx1; ++fx) {
                map_block(cx, n, y0 + fy, x0 + fx, e);
                for (b = 0; b < cx->nc; ++b) {
                    v[b] = e[b] > v[b] ? e[b] : v[b];
                }
            }
        }
        for (b = 0; b < cx->nc; ++b) {
            v[b] = bnn_clamp_f(v[b], p->pool_act_min, p->pool_act_max);
        }
    } else {
        map_block(cx, n, y, x, v);
    }
    if (p->quant_s8) {
        const float zp = (float)p->zero_point;
        for (b = 0; b < cx->nc; ++b) {
            bits |= (v[b] < zp ? 1u : 0u) << b;
        }
    } else {
        for (b = 0; b < cx->nc; ++b) {
            bits |= sign_bit(v[b]) << b;
        }
    }
    return bits;
}

/* The reference's checks, statement for statement (check_src and the head of
 * bnn_conv2d_pool_quantize_ref), so errors and their log lines are the same. */
static bnn_status_t check_src(const bnn_fused_params_t *p)
{
    bnn_status_t st = BNN_OK;
    const char *op = "conv2d_pool_quantize";
    switch (p->src) {
    case BNN_FUSED_SRC_F32:
    case BNN_FUSED_SRC_S8:
        break;
    case BNN_FUSED_CONV_F32:
    case BNN_FUSED_CONV_BINW_F32: {
        const bnn_conv2d_f32_params_t *cp = p->conv_f32;
        BNN_ENSURE(cp != NULL && p->filter != NULL, op, "conv_f32", 0, BNN_ERR_ARG);
        st = bnn_check_window(&cp->win, op);
        BNN_ENSURE(cp->in_c >= 1 && cp->groups >= 1 && cp->in_c % cp->groups == 0, op,
                   "in_c", cp->in_c, BNN_ERR_ARG);
        BNN_ENSURE(cp->out_c == p->channels && cp->out_c % cp->groups == 0, op, "out_c",
                   cp->out_c, BNN_ERR_ARG);
        BNN_ENSURE(cp->win.out_h == p->map_h && cp->win.out_w == p->map_w &&
                       cp->win.batch == p->batch,
                   op, "map_h", p->map_h, BNN_ERR_ARG);
        BNN_ENSURE(p->src == BNN_FUSED_CONV_F32 || p->scale != NULL, op, "scale", 0,
                   BNN_ERR_ARG);
        break;
    }
    case BNN_FUSED_CONV_S8: {
        const bnn_conv2d_s8_params_t *cp = p->conv_s8;
        BNN_ENSURE(cp != NULL && p->filter != NULL, op, "conv_s8", 0, BNN_ERR_ARG);
        st = bnn_check_window(&cp->win, op);
        BNN_ENSURE(cp->in_c >= 1 && cp->groups >= 1 && cp->in_c % cp->groups == 0, op,
                   "in_c", cp->in_c, BNN_ERR_ARG);
        BNN_ENSURE(cp->out_c == p->channels && cp->out_c % cp->groups == 0, op, "out_c",
                   cp->out_c, BNN_ERR_ARG);
        BNN_ENSURE(cp->win.out_h == p->map_h && cp->win.out_w == p->map_w &&
                       cp->win.batch == p->batch,
                   op, "map_h", p->map_h, BNN_ERR_ARG);
        BNN_ENSURE(cp->act_min <= cp->act_max, op, "act_min", cp->act_min, BNN_ERR_ARG);
        break;
    }
    case BNN_FUSED_BCONV: {
        const bnn_bconv2d_params_t *bp = p->bconv;
        int32_t k;
        BNN_ENSURE(bp != NULL && p->filter != NULL, op, "bconv", 0, BNN_ERR_ARG);
        st = bnn_check_window(&bp->win, op);
        BNN_ENSURE(bp->out_type == BNN_OUT_F32 || bp->out_type == BNN_OUT_S8, op, "out_type",
                   bp->out_type, BNN_ERR_UNSUPPORTED);
        BNN_ENSURE(bp->mul != NULL && bp->bias != NULL, op, "mul", 0, BNN_ERR_ARG);
        BNN_ENSURE(bp->channels_in >= 1 && bp->groups >= 1 &&
                       bp->channels_in % bp->groups == 0 &&
                       (bp->groups == 1 || (bp->channels_in / bp->groups) % 32 == 0),
                   op, "channels_in", bp->channels_in, BNN_ERR_ARG);
        BNN_ENSURE(bp->channels_out == p->channels && bp->channels_out % bp->groups == 0, op,
                   "channels_out", bp->channels_out, BNN_ERR_ARG);
        BNN_ENSURE(bp->win.out_h == p->map_h && bp->win.out_w == p->map_w &&
                       bp->win.batch == p->batch,
                   op, "map_h", p->map_h, BNN_ERR_ARG);
        BNN_ENSURE(bp->pad_mode == BNN_BPAD_ONE || bp->pad_mode == BNN_BPAD_ZERO_INT ||
                       bp->pad_mode == BNN_BPAD_ZERO_FLOAT,
                   op, "pad_mode", bp->pad_mode, BNN_ERR_ARG);
        BNN_ENSURE(bp->clamp_min <= bp->clamp_max, op, "clamp_min", bp->clamp_min, BNN_ERR_ARG);
        k = bp->win.kernel_h * bp->win.kernel_w * (bp->channels_in / bp->groups);
        if (bp->pad_mode == BNN_BPAD_ZERO_FLOAT) {
            BNN_ENSURE(bp->out_type == BNN_OUT_F32, op, "out_type", bp->out_type,
                       BNN_ERR_UNSUPPORTED);
            BNN_ENSURE(bp->clamp_min <= 0 && bp->clamp_max >= 2 * k, op, "clamp_min",
                       bp->clamp_min, BNN_ERR_UNSUPPORTED);
        }
        break;
    }
    default:
        BNN_ENSURE(0, op, "src", p->src, BNN_ERR_ARG);
    }
    return st;
}

static bnn_status_t check_params(const bnn_fused_params_t *p, const void *in,
                                 const uint32_t *out, int32_t *fin_h_out,
                                 int32_t *fin_w_out)
{
    const char *op = "conv2d_pool_quantize";
    int32_t s, fin_h, fin_w, fin_c;
    size_t total;
    bnn_status_t st;

    BNN_ENSURE(p != NULL && in != NULL && out != NULL, op, "p", 0, BNN_ERR_ARG);
    BNN_ENSURE(p->batch >= 1, op, "batch", p->batch, BNN_ERR_ARG);
    BNN_ENSURE(p->map_h >= 1 && p->map_w >= 1, op, "map_h", p->map_h, BNN_ERR_ARG);
    BNN_ENSURE(p->channels >= 1, op, "channels", p->channels, BNN_ERR_ARG);
    BNN_ENSURE(p->n_stages >= 0 && p->n_stages <= BNN_FUSED_MAX_STAGES, op, "n_stages",
               p->n_stages, BNN_ERR_ARG);
    BNN_ENSURE(p->n_stages == 0 || !p->quant_s8, op, "n_stages", p->n_stages, BNN_ERR_ARG);
    for (s = 0; s < p->n_stages; ++s) {
        BNN_ENSURE(p->stages[s].op >= BNN_FUSED_MUL && p->stages[s].op <= BNN_FUSED_CLAMP, op,
                   "stages[s].op", p->stages[s].op, BNN_ERR_ARG);
        BNN_ENSURE(p->stages[s].op == BNN_FUSED_CLAMP || p->stages[s].c != NULL, op,
                   "stages[s].c", s, BNN_ERR_ARG);
    }
    BNN_ENSURE(p->quant_s8 == (p->src == BNN_FUSED_SRC_S8 || p->src == BNN_FUSED_CONV_S8 ||
                               (p->src == BNN_FUSED_BCONV && p->bconv != NULL &&
                                p->bconv->out_type == BNN_OUT_S8)),
               op, "quant_s8", p->quant_s8, BNN_ERR_ARG);
    st = check_src(p);
    if (st != BNN_OK) {
        return st;
    }
    fin_h = p->map_h;
    fin_w = p->map_w;
    fin_c = p->channels;
    if (p->has_pool) {
        st = bnn_check_window(&p->pool, op);
        if (st != BNN_OK) {
            return st;
        }
        BNN_ENSURE(p->pool.in_h == fin_h && p->pool.in_w == fin_w && p->pool.batch == p->batch,
                   op, "pool.in_h", p->pool.in_h, BNN_ERR_ARG);
        BNN_ENSURE(p->pool.dilation_h == 1 && p->pool.dilation_w == 1, op, "pool.dilation_h",
                   p->pool.dilation_h, BNN_ERR_ARG);
        BNN_ENSURE(p->pool_act_min <= p->pool_act_max, op, "pool_act_min", 0, BNN_ERR_ARG);
        fin_h = p->pool.out_h;
        fin_w = p->pool.out_w;
    }
    if (p->has_bpool) {
        st = bnn_check_window(&p->bpool, op);
        if (st != BNN_OK) {
            return st;
        }
        BNN_ENSURE(p->bpool.in_h == fin_h && p->bpool.in_w == fin_w &&
                       p->bpool.batch == p->batch,
                   op, "bpool.in_h", p->bpool.in_h, BNN_ERR_ARG);
        BNN_ENSURE(p->bpool.dilation_h == 1 && p->bpool.dilation_w == 1, op,
                   "bpool.dilation_h", p->bpool.dilation_h, BNN_ERR_ARG);
        fin_h = p->bpool.out_h;
        fin_w = p->bpool.out_w;
    }
    total = (size_t)p->batch * (size_t)fin_h * (size_t)fin_w * (size_t)fin_c;
    BNN_ENSURE(p->pack_channels >= 1 && total % (size_t)p->pack_channels == 0, op,
               "pack_channels", p->pack_channels, BNN_ERR_ARG);
    *fin_h_out = fin_h;
    *fin_w_out = fin_w;
    return BNN_OK;
}

int bnn_conv2d_pool_quantize_opt_supports(const bnn_fused_params_t *p)
{
    if (p == NULL || p->channels < 1) {
        return 0;
    }
    if (p->src == BNN_FUSED_BCONV) {
        const bnn_bconv2d_params_t *bp = p->bconv;
        return bp != NULL && bp->groups == 1 && bp->channels_in >= 1
               && (bp->pad_mode == BNN_BPAD_ONE || bp->pad_mode == BNN_BPAD_ZERO_INT)
               && (bp->out_type == BNN_OUT_F32 || bp->out_type == BNN_OUT_S8)
               && (int64_t)bp->win.kernel_h * bp->win.kernel_w * BNN_WORDS(bp->channels_in)
                      <= BNN_FUSED_OPT_PATCH_WORDS
               && bp->win.kernel_h >= 1 && bp->win.kernel_w >= 1;
    }
    if (p->src == BNN_FUSED_CONV_BINW_F32 || p->src == BNN_FUSED_CONV_F32) {
        /* Without an FPU every float operation is a library call, and the reference's
         * early exit (it stops a binary-pool window at the first 0 bit of a channel,
         * while this kernel computes whole 32-channel blocks) saves more of them than the
         * blocking gains: measured on the M0 (microbit) 46.2 M vs 33.7 M instructions for
         * the first layer of bnn_cnn_small. So the float sources stay on the reference there. */
        const bnn_conv2d_f32_params_t *cp = p->conv_f32;
        return !BNN_FUSED_OPT_SMALL_STACK && cp != NULL && cp->groups == 1 && cp->in_c >= 1
               && cp->win.kernel_h >= 1 && cp->win.kernel_w >= 1
               && (int64_t)cp->win.kernel_h * cp->win.kernel_w * cp->in_c
                      <= BNN_FUSED_OPT_MAX_K;
    }
    return 0;
}

bnn_status_t bnn_conv2d_pool_quantize_opt(const bnn_fused_params_t *p, const void *in,
                                          uint32_t *out)
{
    ctx_t cx;
    int32_t n, y, x, fin_h, fin_w, words;
    size_t r, rows;
    bnn_status_t st = check_params(p, in, out, &fin_h, &fin_w);
    if (st != BNN_OK) {
        return st;
    }
    if (!bnn_conv2d_pool_quantize_opt_supports(p)) {
        return BNN_ERR_UNSUPPORTED;
    }
    if (p->src == BNN_FUSED_CONV_F32) {
        /* Outside taps add x = 0 here (the reference skips them): the same only while every
         * product 0 * w is a zero, i.e. every weight is finite. Else: the reference. */
        const float *f = (const float *)p->filter;
        const size_t nf = (size_t)p->channels * (size_t)p->conv_f32->win.kernel_h
                          * (size_t)p->conv_f32->win.kernel_w * (size_t)p->conv_f32->in_c;
        for (r = 0; r < nf; ++r) {
            uint32_t u;
            memcpy(&u, &f[r], sizeof u);
            if ((u & 0x7F800000u) == 0x7F800000u) {
                return bnn_conv2d_pool_quantize_ref(p, in, out);
            }
        }
    }
    words = BNN_WORDS(p->pack_channels);
    rows = (size_t)p->batch * (size_t)fin_h * (size_t)fin_w * (size_t)p->channels
           / (size_t)p->pack_channels;
    for (r = 0; r < rows * (size_t)words; ++r) {
        out[r] = 0u;
    }
    cx.p = p;
    cx.in = in;
    if (p->src == BNN_FUSED_BCONV) {
        const bnn_window_t *w = &p->bconv->win;
        cx.words_in = BNN_WORDS(p->bconv->channels_in);
        cx.words_g = cx.words_in;
        cx.taps = w->kernel_h * w->kernel_w;
        cx.kw = cx.taps * cx.words_g;
        cx.k = 0;
    } else {
        const bnn_window_t *w = &p->conv_f32->win;
        cx.k = w->kernel_h * w->kernel_w * p->conv_f32->in_c;
        cx.words_in = cx.words_g = cx.taps = cx.kw = 0;
    }
    for (cx.c0 = 0; cx.c0 < p->channels; cx.c0 += BLK) {
        cx.nc = bnn_min_i32(BLK, p->channels - cx.c0);
        if (p->src == BNN_FUSED_CONV_BINW_F32) {
            binw_signs(&cx);
        }
        for (n = 0; n < p->batch; ++n) {
            for (y = 0; y < fin_h; ++y) {
                for (x = 0; x < fin_w; ++x) {
                    const size_t e0 = (((size_t)n * (size_t)fin_h + (size_t)y) * (size_t)fin_w
                                       + (size_t)x) * (size_t)p->channels + (size_t)cx.c0;
                    const uint32_t all = cx.nc == 32 ? 0xFFFFFFFFu : (1u << cx.nc) - 1u;
                    uint32_t bits;
                    if (p->has_bpool) {
                        const bnn_window_t *w = &p->bpool;
                        const int32_t y0 = y * w->stride_h - w->pad_top;
                        const int32_t x0 = x * w->stride_w - w->pad_left;
                        const int32_t fy0 = bnn_max_i32(0, -y0);
                        const int32_t fy1 = bnn_min_i32(w->kernel_h, w->in_h - y0);
                        const int32_t fx0 = bnn_max_i32(0, -x0);
                        const int32_t fx1 = bnn_min_i32(w->kernel_w, w->in_w - x0);
                        int32_t fy, fx;
                        bits = all;
                        for (fy = fy0; fy < fy1 && bits; ++fy) {
                            for (fx = fx0; fx < fx1 && bits; ++fx) {
                                bits &= pooled_bits(&cx, n, y0 + fy, x0 + fx);
                            }
                        }
                    } else {
                        bits = pooled_bits(&cx, n, y, x);
                    }
                    if (p->pack_channels == p->channels) {
                        /* One row per pixel; the block is word c0 / 32 of it. */
                        out[(e0 / (size_t)p->channels) * (size_t)words
                            + (size_t)(cx.c0 / 32)] |= bits;
                    } else if (p->pack_channels % 32 == 0 && p->channels % 32 == 0) {
                        out[e0 / 32u] |= bits; /* rows of whole words, aligned block */
                    } else {
                        int32_t b;
                        for (b = 0; b < cx.nc && bits; ++b, bits >>= 1) {
                            const size_t e = e0 + (size_t)b;
                            const size_t row = e / (size_t)p->pack_channels;
                            const int32_t bit = (int32_t)(e % (size_t)p->pack_channels);
                            out[row * (size_t)words + (size_t)(bit / 32)] |=
                                (bits & 1u) << (bit % 32);
                        }
                    }
                }
            }
        }
    }
    return BNN_OK;
}
