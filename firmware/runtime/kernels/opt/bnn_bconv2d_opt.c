/* LceBconv2d, optimized (spec §6): bit-exact with bnn_bconv2d_ref on every p that
 * bnn_bconv2d_opt_supports() accepts.
 *
 * Why it is faster than the reference:
 * 1. Direct convolution on packed words, no im2col. For each output pixel the taps inside
 *    the input form one rectangle [fy0, fy1) x [fx0, fx1), computed once per pixel, so the
 *    interior has no per-tap bounds checks. With dilation_w == 1 and groups == 1 each
 *    filter row of the rectangle is ONE contiguous run of (fx1 - fx0) * words words in both
 *    the input and the filter (the dense layers, 1x1 on a 1x1 input, are a single run).
 * 2. Output channels in blocks of BNN_BCONV_OPT_BLOCK: every input word is loaded once and
 *    XOR-ed with the block's filters; the partial counts stay in registers.
 * 3. Popcount with byte-field accumulators and a carry-save adder per three words
 *    (bnn_popcount_opt.h); one horizontal sum per run of <= 30 words.
 * 4. The output transform is fused: float output uses the reference's inline
 *    bnn_bconv_transform (the same operations in the same order, so the floats are equal
 *    bit for bit), int8 output a float-only rounding that equals bnn_round_sat_s8 (see
 *    round_sat_s8 below), packed output the thresholds.
 * Border pixels with one padding add popcount(filter word) for each outside tap (the input
 * word is 0 there); zero padding (integer path) counts the outside taps instead.
 */
#include "../../src/bnn_internal.h"
#include "bnn_popcount_opt.h"

/* Output channels per block (1, 2 or 4), measured under QEMU (tests/firmware_opt/bench):
 * 2 is best on the M4 and the M0 (4 spills the partial counts on both). */
#ifndef BNN_BCONV_OPT_BLOCK
#define BNN_BCONV_OPT_BLOCK 2
#endif

#if BNN_OPT_POPCOUNT_LUT
const uint8_t bnn_opt_popcount_table[256] = {
#define BNN_B2(n) n, n + 1, n + 1, n + 2
#define BNN_B4(n) BNN_B2(n), BNN_B2(n + 1), BNN_B2(n + 1), BNN_B2(n + 2)
#define BNN_B6(n) BNN_B4(n), BNN_B4(n + 1), BNN_B4(n + 1), BNN_B4(n + 2)
    BNN_B6(0), BNN_B6(1), BNN_B6(1), BNN_B6(2)
#undef BNN_B6
#undef BNN_B4
#undef BNN_B2
};
#endif

/* ---- Runs: popcount(x[j] ^ f_b[j]) for j < len (len <= BNN_OPT_RUN_MAX), byte fields ---- */

BNN_OPT_INLINE uint32_t run1(const uint32_t *x, const uint32_t *f, int32_t len)
{
    uint32_t s = 0u;
    for (; len >= 3; len -= 3, x += 3, f += 3) {
        s += bnn_opt_pc3(x[0] ^ f[0], x[1] ^ f[1], x[2] ^ f[2]);
    }
    if (len == 2) {
        s += bnn_opt_pc2(x[0] ^ f[0], x[1] ^ f[1]);
    } else if (len == 1) {
        s += bnn_opt_pc1(x[0] ^ f[0]);
    }
    return s;
}

/* popcount of the filter words alone (outside taps with one padding: the input is 0). */
BNN_OPT_INLINE uint32_t run_filter(const uint32_t *f, int32_t len)
{
    uint32_t s = 0u;
    for (; len >= 3; len -= 3, f += 3) {
        s += bnn_opt_pc3(f[0], f[1], f[2]);
    }
    if (len == 2) {
        s += bnn_opt_pc2(f[0], f[1]);
    } else if (len == 1) {
        s += bnn_opt_pc1(f[0]);
    }
    return s;
}

BNN_OPT_INLINE void run2(const uint32_t *x, const uint32_t *f0, size_t fs, int32_t len,
                         int32_t *acc)
{
    const uint32_t *f1 = f0 + fs;
    uint32_t s0 = 0u, s1 = 0u;
    for (; len >= 3; len -= 3, x += 3, f0 += 3, f1 += 3) {
        const uint32_t x0 = x[0], x1 = x[1], x2 = x[2];
        s0 += bnn_opt_pc3(x0 ^ f0[0], x1 ^ f0[1], x2 ^ f0[2]);
        s1 += bnn_opt_pc3(x0 ^ f1[0], x1 ^ f1[1], x2 ^ f1[2]);
    }
    if (len == 2) {
        const uint32_t x0 = x[0], x1 = x[1];
        s0 += bnn_opt_pc2(x0 ^ f0[0], x1 ^ f0[1]);
        s1 += bnn_opt_pc2(x0 ^ f1[0], x1 ^ f1[1]);
    } else if (len == 1) {
        const uint32_t x0 = x[0];
        s0 += bnn_opt_pc1(x0 ^ f0[0]);
        s1 += bnn_opt_pc1(x0 ^ f1[0]);
    }
    acc[0] += bnn_opt_hsum(s0);
    acc[1] += bnn_opt_hsum(s1);
}

BNN_OPT_INLINE void run4(const uint32_t *x, const uint32_t *f0, size_t fs, int32_t len,
                         int32_t *acc)
{
    const uint32_t *f1 = f0 + fs, *f2 = f1 + fs, *f3 = f2 + fs;
    uint32_t s0 = 0u, s1 = 0u, s2 = 0u, s3 = 0u;
    for (; len >= 3; len -= 3, x += 3, f0 += 3, f1 += 3, f2 += 3, f3 += 3) {
        const uint32_t x0 = x[0], x1 = x[1], x2 = x[2];
        s0 += bnn_opt_pc3(x0 ^ f0[0], x1 ^ f0[1], x2 ^ f0[2]);
        s1 += bnn_opt_pc3(x0 ^ f1[0], x1 ^ f1[1], x2 ^ f1[2]);
        s2 += bnn_opt_pc3(x0 ^ f2[0], x1 ^ f2[1], x2 ^ f2[2]);
        s3 += bnn_opt_pc3(x0 ^ f3[0], x1 ^ f3[1], x2 ^ f3[2]);
    }
    if (len == 2) {
        const uint32_t x0 = x[0], x1 = x[1];
        s0 += bnn_opt_pc2(x0 ^ f0[0], x1 ^ f0[1]);
        s1 += bnn_opt_pc2(x0 ^ f1[0], x1 ^ f1[1]);
        s2 += bnn_opt_pc2(x0 ^ f2[0], x1 ^ f2[1]);
        s3 += bnn_opt_pc2(x0 ^ f3[0], x1 ^ f3[1]);
    } else if (len == 1) {
        const uint32_t x0 = x[0];
        s0 += bnn_opt_pc1(x0 ^ f0[0]);
        s1 += bnn_opt_pc1(x0 ^ f1[0]);
        s2 += bnn_opt_pc1(x0 ^ f2[0]);
        s3 += bnn_opt_pc1(x0 ^ f3[0]);
    }
    acc[0] += bnn_opt_hsum(s0);
    acc[1] += bnn_opt_hsum(s1);
    acc[2] += bnn_opt_hsum(s2);
    acc[3] += bnn_opt_hsum(s3);
}

/* A run of any length for a block of B filters (B a constant after inlining). */
BNN_OPT_INLINE void run_block(int B, const uint32_t *x, const uint32_t *f, size_t fs,
                              int32_t len, int32_t *acc)
{
    while (len > 0) {
        const int32_t n = len < BNN_OPT_RUN_MAX ? len : BNN_OPT_RUN_MAX;
        if (B == 4) {
            run4(x, f, fs, n, acc);
        } else if (B == 2) {
            run2(x, f, fs, n, acc);
        } else {
            acc[0] += bnn_opt_hsum(run1(x, f, n));
        }
        x += n;
        f += n;
        len -= n;
    }
}

/* ---- Geometry of one layer, computed once per call ---- */

typedef struct {
    const bnn_bconv2d_params_t *p;
    int32_t words_in;   /* words per input pixel */
    int32_t words_g;    /* words per filter tap (one group) */
    int32_t words_out;  /* packed output: words per output pixel */
    int32_t cg;         /* channels per group */
    int32_t cout_g;     /* output channels per group */
    int32_t taps;       /* KH * KW */
    size_t fs;          /* words per output channel of the filter: KH * KW * words_g */
    size_t row_step;    /* words between input rows fy and fy + 1: dh * in_w * words_in */
    size_t tap_step;    /* words between input taps fx and fx + 1: dw * words_in */
    int merge;          /* the taps of a filter row are one contiguous run */
} geom_t;

/* Taps of one output pixel that fall inside the input. */
typedef struct {
    int32_t fy0, fy1, fx0, fx1;
    const uint32_t *x; /* input word of tap (fy0, fx0), group 0 */
} window_t;

/* acc[b] += sum over the inside taps of popcount(x ^ f_b), for B filters from f_co. */
BNN_OPT_INLINE void accumulate(int B, const geom_t *g, const window_t *wd, const uint32_t *x,
                               const uint32_t *f_co, int32_t *acc)
{
    const bnn_window_t *w = &g->p->win;
    const int32_t nfx = wd->fx1 - wd->fx0;
    const uint32_t *f = f_co + ((size_t)wd->fy0 * (size_t)w->kernel_w + (size_t)wd->fx0)
                                   * (size_t)g->words_g;
    const size_t f_row = (size_t)w->kernel_w * (size_t)g->words_g;
    int32_t fy, fx;
    if (g->merge) {
        const int32_t len = nfx * g->words_g;
        for (fy = wd->fy0; fy < wd->fy1; ++fy) {
            run_block(B, x, f, g->fs, len, acc);
            x += g->row_step;
            f += f_row;
        }
    } else {
        for (fy = wd->fy0; fy < wd->fy1; ++fy) {
            const uint32_t *xt = x;
            const uint32_t *ft = f;
            for (fx = 0; fx < nfx; ++fx) {
                run_block(B, xt, ft, g->fs, g->words_g, acc);
                xt += g->tap_step;
                ft += g->words_g;
            }
            x += g->row_step;
            f += f_row;
        }
    }
}

/* One padding: popcount of the filter words of every outside tap of one filter. */
static int32_t outside_filter_count(const geom_t *g, const window_t *wd, const uint32_t *f_co)
{
    const bnn_window_t *w = &g->p->win;
    int32_t fy, fx, acc = 0;
    for (fy = 0; fy < w->kernel_h; ++fy) {
        const int inside_row = fy >= wd->fy0 && fy < wd->fy1;
        const uint32_t *f = f_co + (size_t)fy * (size_t)w->kernel_w * (size_t)g->words_g;
        if (!inside_row) {
            /* The whole filter row: one run. */
            int32_t len = w->kernel_w * g->words_g;
            while (len > 0) {
                const int32_t n = len < BNN_OPT_RUN_MAX ? len : BNN_OPT_RUN_MAX;
                acc += bnn_opt_hsum(run_filter(f, n));
                f += n;
                len -= n;
            }
            continue;
        }
        for (fx = 0; fx < w->kernel_w; ++fx) {
            if (fx < wd->fx0 || fx >= wd->fx1) {
                const uint32_t *ft = f + (size_t)fx * (size_t)g->words_g;
                int32_t len = g->words_g;
                while (len > 0) {
                    const int32_t n = len < BNN_OPT_RUN_MAX ? len : BNN_OPT_RUN_MAX;
                    acc += bnn_opt_hsum(run_filter(ft, n));
                    ft += n;
                    len -= n;
                }
            }
        }
    }
    return acc;
}

/*
 * int8 output: saturate_int8(round_half_away_from_zero(y)), equal to the reference's
 * bnn_round_sat_s8 (which rounds in double) for every float y, without double arithmetic
 * (a library call on single-precision FPUs):
 * 1. Clamping y to [-129, 128] first changes no saturated result and keeps the int
 *    conversion defined.
 * 2. r = trunc(y) and fr = y - (float)r are exact (r is representable; the fraction of a
 *    float is a float), so fr >= 0.5 / fr <= -0.5 detects the half-away-from-zero step.
 */
BNN_OPT_INLINE int8_t round_sat_s8(float y)
{
    float yc = y < -129.0f ? -129.0f : y;
    int32_t r;
    float fr;
    yc = yc > 128.0f ? 128.0f : yc;
    r = (int32_t)yc;
    fr = yc - (float)r;
    r += (fr >= 0.5f ? 1 : 0) - (fr <= -0.5f ? 1 : 0);
    return (int8_t)bnn_clamp_i32(r, -128, 127);
}

/* Output channels [co, co + B) of one pixel: accumulate, then transform and store. */
BNN_OPT_INLINE void do_block(int B, const geom_t *g, const window_t *wd, const uint32_t *x,
                             const uint32_t *filter, int32_t co, int32_t n_out, size_t pix,
                             void *out, uint32_t *packed)
{
    const bnn_bconv2d_params_t *p = g->p;
    const uint32_t *f_co = filter + (size_t)co * g->fs;
    int32_t acc[4] = {0, 0, 0, 0};
    int32_t b;
    accumulate(B, g, wd, x, f_co, acc);
    if (n_out > 0 && p->pad_mode == BNN_BPAD_ONE) {
        for (b = 0; b < B; ++b) {
            acc[b] += outside_filter_count(g, wd, f_co + (size_t)b * g->fs);
        }
        n_out = 0; /* counted in acc; only zero padding counts outside taps apart */
    }
    for (b = 0; b < B; ++b) {
        const int32_t c = co + b;
        if (p->out_type == BNN_OUT_PACKED) {
            const int32_t eff = acc[b] + n_out * (g->cg / 2);
            *packed |= (eff > p->threshold[c] ? 1u : 0u) << (c & 31);
            if ((c & 31) == 31 || c == p->channels_out - 1) {
                ((uint32_t *)out)[pix * (size_t)g->words_out + (size_t)(c >> 5)] = *packed;
                *packed = 0u;
            }
        } else {
            const int32_t x2 = 2 * acc[b] + n_out * g->cg;
            const float y = bnn_bconv_transform(x2, p->clamp_min, p->clamp_max, p->mul[c],
                                                p->bias[c]);
            if (p->out_type == BNN_OUT_F32) {
                ((float *)out)[pix * (size_t)p->channels_out + (size_t)c] = y;
            } else {
                ((int8_t *)out)[pix * (size_t)p->channels_out + (size_t)c] = round_sat_s8(y);
            }
        }
    }
}

int bnn_bconv2d_opt_supports(const bnn_bconv2d_params_t *p)
{
    return p != NULL && (p->pad_mode == BNN_BPAD_ONE || p->pad_mode == BNN_BPAD_ZERO_INT);
}

bnn_status_t bnn_bconv2d_opt(const bnn_bconv2d_params_t *p, const uint32_t *in,
                             const uint32_t *filter, void *out, void *scratch)
{
    const bnn_window_t *w = &p->win;
    geom_t g;
    int32_t n, oy, ox, grp, co;
    bnn_status_t st;
    (void)scratch;

    /* The reference's checks, so errors are the same. */
    st = bnn_check_window(w, "bconv2d");
    if (st != BNN_OK) {
        return st;
    }
    BNN_ENSURE(p->channels_in >= 1, "bconv2d", "channels_in", p->channels_in, BNN_ERR_ARG);
    BNN_ENSURE(p->channels_out >= 1, "bconv2d", "channels_out", p->channels_out, BNN_ERR_ARG);
    BNN_ENSURE(p->groups >= 1, "bconv2d", "groups", p->groups, BNN_ERR_ARG);
    BNN_ENSURE(p->channels_in % p->groups == 0, "bconv2d", "groups", p->groups, BNN_ERR_ARG);
    BNN_ENSURE(p->channels_out % p->groups == 0, "bconv2d", "channels_out", p->channels_out,
               BNN_ERR_ARG);
    BNN_ENSURE(p->groups == 1 || (p->channels_in / p->groups) % 32 == 0, "bconv2d",
               "channels_in", p->channels_in, BNN_ERR_ARG);
    BNN_ENSURE(bnn_bconv2d_opt_supports(p), "bconv2d", "pad_mode", p->pad_mode,
               BNN_ERR_UNSUPPORTED);
    BNN_ENSURE(p->out_type == BNN_OUT_F32 || p->out_type == BNN_OUT_S8 ||
                   p->out_type == BNN_OUT_PACKED,
               "bconv2d", "out_type", p->out_type, BNN_ERR_ARG);
    if (p->out_type == BNN_OUT_PACKED) {
        BNN_ENSURE(p->threshold != NULL, "bconv2d", "threshold", 0, BNN_ERR_ARG);
    } else {
        BNN_ENSURE(p->mul != NULL, "bconv2d", "mul", 0, BNN_ERR_ARG);
        BNN_ENSURE(p->bias != NULL, "bconv2d", "bias", 0, BNN_ERR_ARG);
        BNN_ENSURE(p->clamp_min <= p->clamp_max, "bconv2d", "clamp_min", p->clamp_min,
                   BNN_ERR_ARG);
    }

    g.p = p;
    g.cg = p->channels_in / p->groups;
    g.cout_g = p->channels_out / p->groups;
    g.words_in = BNN_WORDS(p->channels_in);
    g.words_g = BNN_WORDS(g.cg);
    g.words_out = BNN_WORDS(p->channels_out);
    g.taps = w->kernel_h * w->kernel_w;
    g.fs = (size_t)g.taps * (size_t)g.words_g;
    g.row_step = (size_t)w->dilation_h * (size_t)w->in_w * (size_t)g.words_in;
    g.tap_step = (size_t)w->dilation_w * (size_t)g.words_in;
    g.merge = w->dilation_w == 1 && p->groups == 1;

    for (n = 0; n < w->batch; ++n) {
        for (oy = 0; oy < w->out_h; ++oy) {
            window_t rows; /* fy0, fy1 of this output row */
            const int32_t iy0 = oy * w->stride_h - w->pad_top;
            rows.fy0 = 0;
            while (rows.fy0 < w->kernel_h && iy0 + rows.fy0 * w->dilation_h < 0) {
                ++rows.fy0;
            }
            rows.fy1 = w->kernel_h;
            while (rows.fy1 > rows.fy0 && iy0 + (rows.fy1 - 1) * w->dilation_h >= w->in_h) {
                --rows.fy1;
            }
            for (ox = 0; ox < w->out_w; ++ox) {
                const int32_t ix0 = ox * w->stride_w - w->pad_left;
                const size_t pix = ((size_t)n * (size_t)w->out_h + (size_t)oy) * (size_t)w->out_w
                                   + (size_t)ox;
                uint32_t packed = 0u;
                int32_t n_out;
                window_t wd = rows;
                wd.fx0 = 0;
                while (wd.fx0 < w->kernel_w && ix0 + wd.fx0 * w->dilation_w < 0) {
                    ++wd.fx0;
                }
                wd.fx1 = w->kernel_w;
                while (wd.fx1 > wd.fx0 && ix0 + (wd.fx1 - 1) * w->dilation_w >= w->in_w) {
                    --wd.fx1;
                }
                if (wd.fx1 <= wd.fx0 || wd.fy1 <= wd.fy0) {
                    wd.fx0 = wd.fx1 = wd.fy0 = wd.fy1 = 0; /* no inside tap */
                }
                n_out = g.taps - (wd.fy1 - wd.fy0) * (wd.fx1 - wd.fx0);
                wd.x = in; /* never read when no tap is inside */
                if (n_out < g.taps) {
                    wd.x += (((size_t)n * (size_t)w->in_h
                              + (size_t)(iy0 + wd.fy0 * w->dilation_h)) * (size_t)w->in_w
                             + (size_t)(ix0 + wd.fx0 * w->dilation_w)) * (size_t)g.words_in;
                }
                for (grp = 0; grp < p->groups; ++grp) {
                    const uint32_t *xg = wd.x + (size_t)grp * (size_t)g.words_g;
                    const int32_t co_end = (grp + 1) * g.cout_g;
                    co = grp * g.cout_g;
#if BNN_BCONV_OPT_BLOCK >= 4
                    for (; co + 4 <= co_end; co += 4) {
                        do_block(4, &g, &wd, xg, filter, co, n_out, pix, out, &packed);
                    }
#endif
#if BNN_BCONV_OPT_BLOCK >= 2
                    for (; co + 2 <= co_end; co += 2) {
                        do_block(2, &g, &wd, xg, filter, co, n_out, pix, out, &packed);
                    }
#endif
                    for (; co < co_end; ++co) {
                        do_block(1, &g, &wd, xg, filter, co, n_out, pix, out, &packed);
                    }
                }
            }
        }
    }
    return BNN_OK;
}
