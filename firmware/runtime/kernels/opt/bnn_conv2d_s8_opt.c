/* CONV_2D int8, optimized: bit-exact with bnn_conv2d_s8_ref on every p that
 * bnn_conv2d_s8_opt_supports() accepts.
 *
 * Why it is faster than the reference:
 * 1. Two output pixels at a time, their patches (the KH*KW*cg inputs of their taps, in the
 *    filter's [fy][fx][ci] order) are gathered once into a small buffer on the stack with
 *    the input offset already added, widened to int16. An outside tap gets the int8 value
 *    -input_offset, so after the offset it is 0 and adds 0, exactly as the reference skips
 *    it. Every output channel's filter row is then ONE contiguous run of the same length as
 *    the patch: the innermost loop has no bounds checks and no offset additions.
 * 2. The inner loop computes 2 pixels x 2 output channels at once (each loaded weight word
 *    and each patch word serves two products). On cores with the DSP extension a weight
 *    word is widened with two SXTB16 and each SMLAD does two multiply-accumulates
 *    (bnn_s8_mac_opt.h); the patch is stored in the matching order: for each group of four
 *    elements (x0+o, x2+o, x1+o, x3+o) per pixel, the two pixels' groups side by side. The
 *    K % 4 trailing elements are kept in natural order and summed one by one.
 * 3. An odd last pixel or output channel is computed as a duplicate of the previous one
 *    (same buffers) and its result is dropped, so the inner loop has one shape only.
 * The integer sums are exact, so only their order differs from the reference; the bias,
 * requantization (bnn_requant), output offset and clamp are the reference's, per output.
 */
#include <string.h>

#include "../../src/bnn_internal.h"
#include "bnn_conv2d_s8_opt.h"
#include "bnn_s8_mac_opt.h"

/* Elements per pixel rounded up to whole groups of 4. */
#define BNN_CONV_S8_K4 ((BNN_CONV2D_S8_OPT_MAX_K + 3) / 4 * 4)

int bnn_conv2d_s8_opt_supports(const bnn_conv2d_s8_params_t *p)
{
    int32_t k;
    if (p == NULL || p->groups < 1 || p->in_c < 1 || p->in_c % p->groups != 0
        || p->win.kernel_h < 1 || p->win.kernel_w < 1 || p->input_offset < -127
        || p->input_offset > 128) {
        return 0;
    }
    if (p->win.kernel_h > BNN_CONV2D_S8_OPT_MAX_K || p->win.kernel_w > BNN_CONV2D_S8_OPT_MAX_K) {
        return 0;
    }
    k = p->win.kernel_h * p->win.kernel_w;
    if (k > BNN_CONV2D_S8_OPT_MAX_K) {
        return 0;
    }
    return p->in_c / p->groups <= BNN_CONV2D_S8_OPT_MAX_K / k;
}

/* n bytes from src to dst (short runs without a library call). */
static inline void copy_bytes(int8_t *dst, const int8_t *src, int32_t n)
{
    if (n >= 16) {
        memcpy(dst, src, (size_t)n);
    } else {
        int32_t i;
        for (i = 0; i < n; ++i) {
            dst[i] = src[i];
        }
    }
}

/* The int8 patch of output pixel (n, oy, ox) and group g into stage[0, K): taps in
 * [fy][fx][ci] order, outside taps filled with pad (= -input_offset). */
static void gather(const bnn_conv2d_s8_params_t *p, const int8_t *in, int32_t n, int32_t oy,
                   int32_t ox, int32_t g, int8_t pad, int8_t *stage)
{
    const bnn_window_t *w = &p->win;
    const int32_t cg = p->in_c / p->groups;
    const int32_t row = w->kernel_w * cg;
    const int32_t ix0 = ox * w->stride_w - w->pad_left;
    const int32_t contiguous = (p->groups == 1 && w->dilation_w == 1 && ix0 >= 0
                                && ix0 + w->kernel_w <= w->in_w);
    int32_t fy, fx;
    for (fy = 0; fy < w->kernel_h; ++fy, stage += row) {
        const int32_t iy = oy * w->stride_h - w->pad_top + fy * w->dilation_h;
        const int8_t *src;
        if (iy < 0 || iy >= w->in_h) {
            memset(stage, (unsigned char)pad, (size_t)row);
            continue;
        }
        src = in + ((size_t)n * (size_t)w->in_h + (size_t)iy) * (size_t)w->in_w
                       * (size_t)p->in_c
              + (size_t)g * (size_t)cg;
        if (contiguous) {
            copy_bytes(stage, src + (size_t)ix0 * (size_t)p->in_c, row);
            continue;
        }
        for (fx = 0; fx < w->kernel_w; ++fx) {
            const int32_t ix = ix0 + fx * w->dilation_w;
            if (ix < 0 || ix >= w->in_w) {
                memset(stage + fx * cg, (unsigned char)pad, (size_t)cg);
            } else {
                copy_bytes(stage + fx * cg, src + (size_t)ix * (size_t)p->in_c, cg);
            }
        }
    }
}

/* stage[0, K) + off into pixel slot px (0 or 1) of the int16 patch (layout: file comment). */
static void widen(const int8_t *stage, int32_t k, int32_t off, int32_t px, int16_t *patch)
{
    const int32_t full = k >> 2;
    int32_t j, t;
    int16_t *dst = patch + 4 * px;
#if BNN_S8_OPT_DSP
    const int32_t off2 = (int32_t)(((uint32_t)off & 0xFFFFu) | ((uint32_t)off << 16));
    for (j = 0; j < full; ++j, dst += 8) {
        const int32_t v = bnn_s8_ld32(stage + 4 * j);
        bnn_s8_st32(dst, bnn_s8_add16(bnn_s8_even(v), off2));
        bnn_s8_st32(dst + 2, bnn_s8_add16(bnn_s8_odd(v), off2));
    }
#else
    for (j = 0; j < full; ++j, dst += 8) {
        const int8_t *s = stage + 4 * j;
        dst[0] = (int16_t)(s[0] + off);
        dst[1] = (int16_t)(s[2] + off);
        dst[2] = (int16_t)(s[1] + off);
        dst[3] = (int16_t)(s[3] + off);
    }
#endif
    for (t = 0; t < (k & 3); ++t) {
        dst[t] = (int16_t)(stage[4 * full + t] + off);
    }
}

/* acc[2 * px + ch] = sum_k patch(px)[k] * filter row ch[k] for 2 pixels x 2 channels.
 * Not inlined, so its loop gets the registers to itself. */
static BNN_S8_NOINLINE void dot_2x2(const int16_t *patch, const int8_t *w0, const int8_t *w1, int32_t k,
                    int32_t acc[4])
{
    const int32_t full = k >> 2;
    int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0; /* a<pixel><channel> */
    int32_t t;
#if BNN_S8_OPT_DSP
    /* An end pointer rather than a counter: one register less in the loop (measured). */
    const int16_t *const end = patch + 8 * full;
    for (; patch != end; patch += 8, w0 += 4, w1 += 4) {
        const int32_t x0 = bnn_s8_ld32(patch);
        const int32_t x1 = bnn_s8_ld32(patch + 2);
        const int32_t y0 = bnn_s8_ld32(patch + 4);
        const int32_t y1 = bnn_s8_ld32(patch + 6);
        int32_t v = bnn_s8_ld32(w0);
        int32_t we = bnn_s8_even(v);
        int32_t wo = bnn_s8_odd(v);
        a00 = bnn_s8_smlad(x0, we, a00);
        a00 = bnn_s8_smlad(x1, wo, a00);
        a10 = bnn_s8_smlad(y0, we, a10);
        a10 = bnn_s8_smlad(y1, wo, a10);
        v = bnn_s8_ld32(w1);
        we = bnn_s8_even(v);
        wo = bnn_s8_odd(v);
        a01 = bnn_s8_smlad(x0, we, a01);
        a01 = bnn_s8_smlad(x1, wo, a01);
        a11 = bnn_s8_smlad(y0, we, a11);
        a11 = bnn_s8_smlad(y1, wo, a11);
    }
#else
    int32_t j;
    for (j = 0; j < full; ++j, patch += 8, w0 += 4, w1 += 4) {
        const int32_t u0 = w0[0], u1 = w0[1], u2 = w0[2], u3 = w0[3];
        const int32_t v0 = w1[0], v1 = w1[1], v2 = w1[2], v3 = w1[3];
        const int32_t x0 = patch[0], x2 = patch[1], x1 = patch[2], x3 = patch[3];
        const int32_t y0 = patch[4], y2 = patch[5], y1 = patch[6], y3 = patch[7];
        a00 += x0 * u0 + x1 * u1 + x2 * u2 + x3 * u3;
        a01 += x0 * v0 + x1 * v1 + x2 * v2 + x3 * v3;
        a10 += y0 * u0 + y1 * u1 + y2 * u2 + y3 * u3;
        a11 += y0 * v0 + y1 * v1 + y2 * v2 + y3 * v3;
    }
#endif
    for (t = 0; t < (k & 3); ++t) {
        a00 += (int32_t)patch[t] * (int32_t)w0[t];
        a01 += (int32_t)patch[t] * (int32_t)w1[t];
        a10 += (int32_t)patch[4 + t] * (int32_t)w0[t];
        a11 += (int32_t)patch[4 + t] * (int32_t)w1[t];
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

/* The reference's output transform of one accumulator. */
/* bnn_s8_output's statements (bnn_internal.h), written out here: calling the shared inline
 * made GCC schedule this kernel differently, +0.9% instructions for the int8 baseline of
 * `bnn-lq bench mcu` on the M4 (tests/firmware_opt checks both give the same bytes). */
static inline int8_t finish(const bnn_conv2d_s8_params_t *p, int32_t acc, const int32_t *bias,
                            int32_t co)
{
    if (bias != NULL) {
        acc += bias[co];
    }
    acc = bnn_requant(acc, p->out_multiplier[co], p->out_shift[co], p->rounding);
    acc += p->output_offset;
    return (int8_t)bnn_clamp_i32(acc, p->act_min, p->act_max);
}

bnn_status_t bnn_conv2d_s8_opt(const bnn_conv2d_s8_params_t *p, const int8_t *in,
                               const int8_t *filter, const int32_t *bias, int8_t *out)
{
    const bnn_window_t *w = &p->win;
    union {
        uint32_t align;
        int16_t h[2 * BNN_CONV_S8_K4];
    } patch;
    union {
        uint32_t align;
        int8_t b[BNN_CONV_S8_K4];
    } stage;
    int32_t k, cg, cout_g, g, q, pixels, co;
    int8_t pad;
    bnn_status_t st;

    if (!bnn_conv2d_s8_opt_supports(p)) {
        return BNN_ERR_UNSUPPORTED;
    }
    /* The reference's checks, so errors are the same. */
    st = bnn_check_window(w, "conv2d_s8");
    if (st != BNN_OK) {
        return st;
    }
    BNN_ENSURE(p->out_c >= 1, "conv2d_s8", "out_c", p->out_c, BNN_ERR_ARG);
    BNN_ENSURE(p->out_c % p->groups == 0, "conv2d_s8", "groups", p->groups, BNN_ERR_ARG);
    BNN_ENSURE(p->out_multiplier != NULL && p->out_shift != NULL, "conv2d_s8", "out_multiplier",
               0, BNN_ERR_ARG);
    BNN_ENSURE(p->act_min >= -128 && p->act_min <= p->act_max && p->act_max <= 127, "conv2d_s8",
               "act_min", p->act_min, BNN_ERR_ARG);

    cg = p->in_c / p->groups;
    cout_g = p->out_c / p->groups;
    k = w->kernel_h * w->kernel_w * cg;
    pad = (int8_t)(-p->input_offset);
    pixels = w->batch * w->out_h * w->out_w;
    for (q = 0; q < pixels; q += 2) {
        /* Pixel q and q + 1 (q again when q is the last one). */
        const int32_t q1 = q + 1 < pixels ? q + 1 : q;
        const int32_t ox0 = q % w->out_w, oy0 = (q / w->out_w) % w->out_h;
        const int32_t n0 = q / (w->out_w * w->out_h);
        const int32_t ox1 = q1 % w->out_w, oy1 = (q1 / w->out_w) % w->out_h;
        const int32_t n1 = q1 / (w->out_w * w->out_h);
        int8_t *o0 = out + (size_t)q * (size_t)p->out_c;
        int8_t *o1 = out + (size_t)q1 * (size_t)p->out_c;
        for (g = 0; g < p->groups; ++g) {
            const int32_t co_end = (g + 1) * cout_g;
            gather(p, in, n0, oy0, ox0, g, pad, stage.b);
            widen(stage.b, k, p->input_offset, 0, patch.h);
            gather(p, in, n1, oy1, ox1, g, pad, stage.b);
            widen(stage.b, k, p->input_offset, 1, patch.h);
            for (co = g * cout_g; co < co_end; co += 2) {
                /* Channels co and co + 1 (co again when co is the group's last one). */
                const int32_t c1 = co + 1 < co_end ? co + 1 : co;
                int32_t acc[4];
                dot_2x2(patch.h, filter + (size_t)co * (size_t)k, filter + (size_t)c1 * (size_t)k,
                        k, acc);
                o0[co] = finish(p, acc[0], bias, co);
                o1[co] = finish(p, acc[2], bias, co);
                if (c1 != co) {
                    o0[c1] = finish(p, acc[1], bias, c1);
                    o1[c1] = finish(p, acc[3], bias, c1);
                }
            }
        }
    }
    return BNN_OK;
}
