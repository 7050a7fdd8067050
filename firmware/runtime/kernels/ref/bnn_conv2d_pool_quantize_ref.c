/* Fused source -> elementwise -> max-pool -> LceQuantize -> LceBMaxPool2d (bnn_fused.h).
 *
 * Why it is bit-identical to the unfused chain: every value is produced by a copy of the
 * per-element body of the reference kernel that would have produced it, with the same
 * statements in the same order (same float roundings, no FMA under -ffp-contract=off):
 *   1. source element (n, y, x, c): the loop body of bnn_conv2d_f32_ref /
 *      bnn_conv2d_binw_f32_ref / bnn_conv2d_s8_ref / bnn_bconv2d_ref for output (y, x, c);
 *   2. stages: clamp(op(x, c)) as bnn_{mul,add,sub}_f32_ref and bnn_clamp_f32_ref;
 *   3. pool: acc = -FLT_MAX (int8: -128); acc = v > acc ? v : acc over the clipped window,
 *      rows outer; then the activation clamp (bnn_max_pool2d_f32_ref / _s8_ref);
 *   4. quantize: the IEEE-pattern test of bnn_quantize_f32_ref, or q < zero_point;
 *   5. binary pool: AND of the bits of the clipped window (bnn_bmaxpool2d_ref).
 * A RESHAPE between 3 and 4 moves no value, it only regroups the flat NHWC order into
 * rows of pack_channels bits. */
#include <float.h>
#include <string.h>

#include "bnn/bnn_fused.h"
#include "../../src/bnn_internal.h"

/* bnn_quantize_f32_ref's rule: bit = (x <= -FLT_MIN), decided on the bit pattern. */
static uint32_t sign_bit(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return (u >= 0x80800000u && u <= 0xFF800000u) ? 1u : 0u;
}


/* Element (n, oy, ox, co) of a float CONV_2D (float or +-scale packed weights). */
static float conv_f32_value(const bnn_fused_params_t *p, const float *in, int32_t n,
                            int32_t oy, int32_t ox, int32_t co)
{
    const bnn_conv2d_f32_params_t *cp = p->conv_f32;
    const bnn_window_t *w = &cp->win;
    const int32_t cg = cp->in_c / cp->groups;
    const int32_t g = co / (cp->out_c / cp->groups);
    const int binw = p->src == BNN_FUSED_CONV_BINW_F32;
    const int32_t words_g = BNN_WORDS(cg);
    const float *bias = (const float *)p->bias;
    float acc = 0.0f;
    int32_t fy, fx, ci;
    for (fy = 0; fy < w->kernel_h; ++fy) {
        const int32_t iy = oy * w->stride_h - w->pad_top + fy * w->dilation_h;
        if (iy < 0 || iy >= w->in_h) {
            continue;
        }
        for (fx = 0; fx < w->kernel_w; ++fx) {
            const int32_t ix = ox * w->stride_w - w->pad_left + fx * w->dilation_w;
            const float *x;
            if (ix < 0 || ix >= w->in_w) {
                continue;
            }
            x = in + (((size_t)n * (size_t)w->in_h + (size_t)iy) * (size_t)w->in_w + (size_t)ix)
                         * (size_t)cp->in_c + (size_t)g * (size_t)cg;
            if (binw) {
                const uint32_t *f = (const uint32_t *)p->filter
                                    + (((size_t)co * (size_t)w->kernel_h + (size_t)fy)
                                           * (size_t)w->kernel_w + (size_t)fx) * (size_t)words_g;
                for (ci = 0; ci < cg; ++ci) {
                    const int neg = (int)((f[ci / 32] >> (ci % 32)) & 1u);
                    acc = neg ? acc - x[ci] : acc + x[ci];
                }
            } else {
                const float *f = (const float *)p->filter
                                 + (((size_t)co * (size_t)w->kernel_h + (size_t)fy)
                                        * (size_t)w->kernel_w + (size_t)fx) * (size_t)cg;
                for (ci = 0; ci < cg; ++ci) {
                    const float prod = x[ci] * f[ci];
                    acc = acc + prod;
                }
            }
        }
    }
    if (binw) {
        float y = acc * p->scale[co];
        if (bias != NULL) {
            y = y + bias[co];
        }
        return bnn_clamp_f(y, cp->act_min, cp->act_max);
    }
    if (bias != NULL) {
        acc = acc + bias[co];
    }
    return bnn_clamp_f(acc, cp->act_min, cp->act_max);
}

/* Element (n, oy, ox, co) of an int8 CONV_2D, as an int8 value. */
static int32_t conv_s8_value(const bnn_fused_params_t *p, const int8_t *in, int32_t n,
                             int32_t oy, int32_t ox, int32_t co)
{
    const bnn_conv2d_s8_params_t *cp = p->conv_s8;
    const bnn_window_t *w = &cp->win;
    const int32_t cg = cp->in_c / cp->groups;
    const int32_t g = co / (cp->out_c / cp->groups);
    const int32_t *bias = (const int32_t *)p->bias;
    int32_t acc = 0, fy, fx, ci;
    for (fy = 0; fy < w->kernel_h; ++fy) {
        const int32_t iy = oy * w->stride_h - w->pad_top + fy * w->dilation_h;
        if (iy < 0 || iy >= w->in_h) {
            continue;
        }
        for (fx = 0; fx < w->kernel_w; ++fx) {
            const int32_t ix = ox * w->stride_w - w->pad_left + fx * w->dilation_w;
            const int8_t *x;
            const int8_t *f;
            if (ix < 0 || ix >= w->in_w) {
                continue;
            }
            x = in + (((size_t)n * (size_t)w->in_h + (size_t)iy) * (size_t)w->in_w + (size_t)ix)
                         * (size_t)cp->in_c + (size_t)g * (size_t)cg;
            f = (const int8_t *)p->filter + (((size_t)co * (size_t)w->kernel_h + (size_t)fy)
                                                 * (size_t)w->kernel_w + (size_t)fx) * (size_t)cg;
            for (ci = 0; ci < cg; ++ci) {
                acc += ((int32_t)x[ci] + cp->input_offset) * (int32_t)f[ci];
            }
        }
    }
    if (bias != NULL) {
        acc += bias[co];
    }
    acc = bnn_requant(acc, cp->out_multiplier[co], cp->out_shift[co], cp->rounding);
    acc += cp->output_offset;
    return bnn_clamp_i32(acc, cp->act_min, cp->act_max);
}

/* Element (n, oy, ox, co) of an LceBconv2d with float or int8 output. */
static float bconv_value(const bnn_fused_params_t *p, const uint32_t *in, int32_t n,
                         int32_t oy, int32_t ox, int32_t co)
{
    const bnn_bconv2d_params_t *bp = p->bconv;
    const bnn_window_t *w = &bp->win;
    const int32_t cg = bp->channels_in / bp->groups;
    const int32_t words_in = BNN_WORDS(bp->channels_in);
    const int32_t words_g = BNN_WORDS(cg);
    const int32_t g = co / (bp->channels_out / bp->groups);
    const uint32_t *f_co = (const uint32_t *)p->filter
                           + (size_t)co * (size_t)w->kernel_h * (size_t)w->kernel_w
                                 * (size_t)words_g;
    int32_t acc = 0, n_outside = 0, x2, fy, fx, j;
    float y;
    for (fy = 0; fy < w->kernel_h; ++fy) {
        const int32_t iy = oy * w->stride_h - w->pad_top + fy * w->dilation_h;
        for (fx = 0; fx < w->kernel_w; ++fx) {
            const int32_t ix = ox * w->stride_w - w->pad_left + fx * w->dilation_w;
            const uint32_t *f = f_co + ((size_t)fy * (size_t)w->kernel_w + (size_t)fx)
                                           * (size_t)words_g;
            if (iy >= 0 && iy < w->in_h && ix >= 0 && ix < w->in_w) {
                const uint32_t *x = in + (((size_t)n * (size_t)w->in_h + (size_t)iy)
                                              * (size_t)w->in_w + (size_t)ix) * (size_t)words_in
                                    + (size_t)g * (size_t)words_g;
                for (j = 0; j < words_g; ++j) {
                    acc += bnn_popcount32(x[j] ^ f[j]);
                }
            } else if (bp->pad_mode == BNN_BPAD_ZERO_INT) {
                ++n_outside;
            } else {
                for (j = 0; j < words_g; ++j) {
                    acc += bnn_popcount32(f[j]);
                }
            }
        }
    }
    x2 = 2 * acc + n_outside * cg;
    y = bnn_bconv_transform(x2, bp->clamp_min, bp->clamp_max, bp->mul[co], bp->bias[co]);
    if (bp->out_type == BNN_OUT_S8) {
        return (float)bnn_round_sat_s8(y);
    }
    if (bp->pad_mode == BNN_BPAD_ZERO_FLOAT) {
        int has_corr;
        const int32_t s = bnn_bconv2d_zero_pad_sum(bp, f_co, words_g, cg, oy, ox, &has_corr);
        if (has_corr) {
            const float corr = bp->mul[co] * (float)s;
            y = y + corr;
        }
    }
    return y;
}

/* Source element (n, y, x, c) after the elementwise stages. */
static float map_value(const bnn_fused_params_t *p, const void *in, int32_t n, int32_t y,
                       int32_t x, int32_t c)
{
    const size_t idx = (((size_t)n * (size_t)p->map_h + (size_t)y) * (size_t)p->map_w
                        + (size_t)x) * (size_t)p->channels + (size_t)c;
    float v;
    int32_t s;
    switch (p->src) {
    case BNN_FUSED_SRC_F32:
        v = ((const float *)in)[idx];
        break;
    case BNN_FUSED_SRC_S8:
        v = (float)((const int8_t *)in)[idx];
        break;
    case BNN_FUSED_CONV_F32:
    case BNN_FUSED_CONV_BINW_F32:
        v = conv_f32_value(p, (const float *)in, n, y, x, c);
        break;
    case BNN_FUSED_CONV_S8:
        v = (float)conv_s8_value(p, (const int8_t *)in, n, y, x, c);
        break;
    default:
        v = bconv_value(p, (const uint32_t *)in, n, y, x, c);
        break;
    }
    for (s = 0; s < p->n_stages; ++s) {
        const bnn_fused_stage_t *st = &p->stages[s];
        const float k = st->c != NULL ? st->c[st->per_channel ? c : 0] : 0.0f;
        float r;
        switch (st->op) {
        case BNN_FUSED_MUL:
            r = v * k;
            break;
        case BNN_FUSED_ADD:
            r = v + k;
            break;
        case BNN_FUSED_SUB_XC:
            r = v - k;
            break;
        case BNN_FUSED_SUB_CX:
            r = k - v;
            break;
        default:
            r = v;
            break;
        }
        v = bnn_clamp_f(r, st->act_min, st->act_max);
    }
    return v;
}

/* Bit of the pooled, quantized map at (n, y, x, c). */
static uint32_t pooled_bit(const bnn_fused_params_t *p, const void *in, int32_t n, int32_t y,
                           int32_t x, int32_t c)
{
    float v;
    if (p->has_pool) {
        const bnn_window_t *w = &p->pool;
        const int32_t y0 = y * w->stride_h - w->pad_top;
        const int32_t x0 = x * w->stride_w - w->pad_left;
        const int32_t fy0 = bnn_max_i32(0, -y0);
        const int32_t fy1 = bnn_min_i32(w->kernel_h, w->in_h - y0);
        const int32_t fx0 = bnn_max_i32(0, -x0);
        const int32_t fx1 = bnn_min_i32(w->kernel_w, w->in_w - x0);
        float acc = p->quant_s8 ? -128.0f : -FLT_MAX;
        int32_t fy, fx;
        for (fy = fy0; fy < fy1; ++fy) {
            for (fx = fx0; fx < fx1; ++fx) {
                const float e = map_value(p, in, n, y0 + fy, x0 + fx, c);
                acc = e > acc ? e : acc;
            }
        }
        v = bnn_clamp_f(acc, p->pool_act_min, p->pool_act_max);
    } else {
        v = map_value(p, in, n, y, x, c);
    }
    if (p->quant_s8) {
        return v < (float)p->zero_point ? 1u : 0u;
    }
    return sign_bit(v);
}

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

/* The checks both variants of bnn_conv2d_pool_quantize run (bnn_internal.h). */
bnn_status_t bnn_fused_check(const bnn_fused_params_t *p, const void *in, const uint32_t *out,
                             int32_t *fin_h_out, int32_t *fin_w_out)
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

bnn_status_t bnn_conv2d_pool_quantize_ref(const bnn_fused_params_t *p, const void *in,
                                          uint32_t *out)
{
    int32_t n, y, x, c, fin_h, fin_w, fin_c, words;
    size_t total, r, rows, e;
    bnn_status_t st = bnn_fused_check(p, in, out, &fin_h, &fin_w);

    if (st != BNN_OK) {
        return st;
    }
    fin_c = p->channels;
    total = (size_t)p->batch * (size_t)fin_h * (size_t)fin_w * (size_t)fin_c;
    words = BNN_WORDS(p->pack_channels);
    rows = total / (size_t)p->pack_channels;
    for (r = 0; r < rows * (size_t)words; ++r) {
        out[r] = 0u;
    }

    e = 0;
    for (n = 0; n < p->batch; ++n) {
        for (y = 0; y < fin_h; ++y) {
            for (x = 0; x < fin_w; ++x) {
                for (c = 0; c < fin_c; ++c, ++e) {
                    const size_t row = e / (size_t)p->pack_channels;
                    const int32_t bit = (int32_t)(e % (size_t)p->pack_channels);
                    uint32_t b;
                    if (p->has_bpool) {
                        const bnn_window_t *w = &p->bpool;
                        const int32_t y0 = y * w->stride_h - w->pad_top;
                        const int32_t x0 = x * w->stride_w - w->pad_left;
                        const int32_t fy0 = bnn_max_i32(0, -y0);
                        const int32_t fy1 = bnn_min_i32(w->kernel_h, w->in_h - y0);
                        const int32_t fx0 = bnn_max_i32(0, -x0);
                        const int32_t fx1 = bnn_min_i32(w->kernel_w, w->in_w - x0);
                        int32_t fy, fx;
                        b = 1u;
                        for (fy = fy0; fy < fy1 && b; ++fy) {
                            for (fx = fx0; fx < fx1 && b; ++fx) {
                                b &= pooled_bit(p, in, n, y0 + fy, x0 + fx, c);
                            }
                        }
                    } else {
                        b = pooled_bit(p, in, n, y, x, c);
                    }
                    out[row * (size_t)words + (size_t)(bit / 32)] |= b << (bit % 32);
                }
            }
        }
    }
    return BNN_OK;
}
