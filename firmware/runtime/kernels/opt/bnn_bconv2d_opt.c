/* LceBconv2d, optimized (spec §6): bit-exact with bnn_bconv2d_ref on every p that
 * bnn_bconv2d_opt_supports() accepts.
 *
 * Why it is faster than the reference:
 * 1. Direct convolution on packed words, no im2col buffer for the layer. For each output
 *    pixel the KH*KW*words_g input words of its taps are gathered once into a small patch on
 *    the stack (at most BNN_BCONV_OPT_PATCH_WORDS words; outside taps get the word 0, which
 *    is one padding: popcount(0 ^ f) = popcount(f)); 1x1 kernels read the input pixel
 *    directly (the dense layers). Every output channel's filter is then ONE contiguous run of
 *    the same length, so the innermost loop is a branch-free binary dot product. The gather
 *    knows the pixel's inside taps, so it tests no coordinate per tap, and copies taps of one
 *    or two words by assignment (no memcpy call per word).
 * 2. The counts of up to BNN_BCONV_OPT_CHUNK output channels of a pixel come from one call
 *    of bnn_opt_dot_many (blocks of filters sharing the patch words; on Thumb-2 an assembly
 *    adder tree per 3x3 tap of one word), the output transform then runs over them in a loop
 *    of its own per output type, with the parameters hoisted out of it.
 *    Packed output on Thumb-2 (pixels without outside taps to correct) skips the counts
 *    array: packed_channels counts, compares and shifts the bit into a register word per
 *    channel (measured on netduinoplus2, bnn_cnn_small conv2, 3x3x32 -> 64: about 103 ->
 *    92 instructions per output channel). Cortex-M55 (Helium): four filters per step of
 *    gathered words (bnn_bdot_opt.c), and finish_channels compares four counts per VCMP;
 *    measured on mps3-an547, conv2: 2.08 M -> 0.47 M instructions.
 * 3. Popcount with byte-field accumulators and a carry-save adder per three words
 *    (bnn_popcount_opt.h); one horizontal sum per run of <= 30 words.
 * 4. The output transform is fused: float output uses the reference's inline
 *    bnn_bconv_transform (the same operations in the same order, so the floats are equal
 *    bit for bit), int8 output a float-only rounding that equals bnn_round_sat_s8 (see
 *    bnn_opt_round_sat_s8 in bnn_bdot_opt.h), packed output the thresholds.
 * Zero padding (integer path) subtracts the filter popcount of the outside taps again on
 * border pixels (only there) and counts them apart, as the reference does.
 */
#include <stddef.h>
#include <string.h>

#include "../../src/bnn_internal.h"
#include "bnn_bdot_opt.h"
#include "bnn_bslice_opt.h"

/* Output channels per call of bnn_opt_dot_many (their counts live on the stack). */
#ifndef BNN_BCONV_OPT_CHUNK
#define BNN_BCONV_OPT_CHUNK 64
#endif

/* finish_channels stays out of the pixel loop (one call per pixel and chunk), so its loops
 * get the registers to themselves. */
#if defined(__GNUC__)
#define BNN_BCONV_NOINLINE __attribute__((noinline))
#else
#define BNN_BCONV_NOINLINE
#endif

/* Largest per-pixel patch (KH * KW * words per group) on the stack: 160 words = 640 bytes
 * (3x3 with 512 channels). Bigger kernels with more than one tap go to the reference. */
#ifndef BNN_BCONV_OPT_PATCH_WORDS
#define BNN_BCONV_OPT_PATCH_WORDS 160
#endif


/* ---- Geometry of one layer, computed once per call ---- */

typedef struct {
    const bnn_bconv2d_params_t *p;
    int32_t words_in;   /* words per input pixel */
    int32_t words_g;    /* words per filter tap (one group) */
    int32_t words_out;  /* packed output: words per output pixel */
    int32_t cg;         /* channels per group */
    int32_t cout_g;     /* output channels per group */
    int32_t taps;       /* KH * KW */
    int32_t kw;         /* words per output channel of the filter: KH * KW * words_g */
    size_t tap_step;    /* input words from one tap of a kernel row to the next */
    size_t row_step;    /* input words from one kernel row to the next */
} geom_t;

/* Taps of one output pixel that fall inside the input: [fy0, fy1) x [fx0, fx1). */
typedef struct {
    int32_t fy0, fy1, fx0, fx1;
} window_t;

/* Zero padding: popcount of the filter words of every outside tap of one filter. */
static int32_t outside_filter_count(const geom_t *g, const window_t *wd, const uint32_t *f_co)
{
    const bnn_window_t *w = &g->p->win;
    int32_t fy, fx, acc = 0;
    for (fy = 0; fy < w->kernel_h; ++fy) {
        const int inside_row = fy >= wd->fy0 && fy < wd->fy1;
        for (fx = 0; fx < w->kernel_w; ++fx) {
            if (!inside_row || fx < wd->fx0 || fx >= wd->fx1) {
                const uint32_t *ft = f_co + ((size_t)fy * (size_t)w->kernel_w + (size_t)fx)
                                                * (size_t)g->words_g;
                acc += bnn_opt_count(ft, g->words_g);
            }
        }
    }
    return acc;
}

/* Output channels [co, co + nc) of one pixel from their counts acc[] over the patch: the
 * outside taps' filter counts removed (zero padding: n_out of them), then transformed and
 * stored. *packed carries the bits of an unfinished output word between calls. */
BNN_BCONV_NOINLINE static void finish_channels(const geom_t *g, const window_t *wd,
                                               const uint32_t *filter, int32_t co, int32_t nc,
                                               int32_t n_out, size_t pix, int32_t *acc,
                                               void *out, uint32_t *packed)
{
    const bnn_bconv2d_params_t *p = g->p;
    int32_t b;
    if (n_out > 0) {
        /* The patch has 0 words at the outside taps: remove what they added. */
        for (b = 0; b < nc; ++b) {
            acc[b] -= outside_filter_count(g, wd, filter + (size_t)(co + b) * (size_t)g->kw);
        }
    }
    if (p->out_type == BNN_OUT_PACKED) {
        const int32_t add = n_out * (g->cg / 2);
        const int32_t *const th = p->threshold + co;
        uint32_t *const o = (uint32_t *)out + pix * (size_t)g->words_out;
        uint32_t bits = *packed, bit = 1u << (co & 31); /* bit of channel co + b */
        int32_t word = co >> 5;                         /* output word of channel co + b */
#if BNN_OPT_MVE
        /* Helium: four channels per compare while they stay in one output word (bit <= bit
         * 28); the predicate picks their weights 1, 2, 4, 8 and VADDV sums them. */
        const uint32x4_t w4 = vshlq_u32(vdupq_n_u32(1u),
                                        vreinterpretq_s32_u32(vidupq_n_u32(0u, 1)));
        const uint32x4_t zero = vdupq_n_u32(0u);
#endif
        for (b = 0; b < nc;) {
#if BNN_OPT_MVE
            if (b + 4 <= nc && bit <= (1u << 28)) {
                const mve_pred16_t gt =
                    vcmpgtq_s32(vaddq_n_s32(vldrwq_s32(acc + b), add), vldrwq_s32(th + b));
                bits |= vaddvq_u32(vpselq_u32(w4, zero, gt)) * bit;
                bit <<= 4;
                b += 4;
            } else
#endif
            {
                if (acc[b] + add > th[b]) {
                    bits |= bit;
                }
                bit <<= 1;
                ++b;
            }
            if (bit == 0u) { /* channel 31 of a word done */
                o[word++] = bits;
                bits = 0u;
                bit = 1u;
            }
        }
        if (co + nc == p->channels_out && bit != 1u) { /* the last, partial word */
            o[word] = bits;
            bits = 0u;
        }
        *packed = bits;
    } else {
        const int32_t add = n_out * g->cg;
        const int32_t cmin = p->clamp_min, cmax = p->clamp_max;
        const float *const mul = p->mul + co;
        const float *const bias = p->bias + co;
        if (p->out_type == BNN_OUT_F32) {
            float *const o = (float *)out + pix * (size_t)p->channels_out + (size_t)co;
            for (b = 0; b < nc; ++b) {
                o[b] = bnn_bconv_transform(2 * acc[b] + add, cmin, cmax, mul[b], bias[b]);
            }
        } else {
            int8_t *const o = (int8_t *)out + pix * (size_t)p->channels_out + (size_t)co;
            for (b = 0; b < nc; ++b) {
                o[b] = bnn_opt_round_sat_s8(
                    bnn_bconv_transform(2 * acc[b] + add, cmin, cmax, mul[b], bias[b]));
            }
        }
    }
}

#if BNN_OPT_DOT_INLINE
/*
 * Packed output of channels [co, ce) of one pixel without outside taps to correct (n_out ==
 * 0: every pixel with one padding), Thumb-2: count, compare and output bit in ONE loop over
 * the channels, no counts on the stack. The word is built in a register, most significant
 * bit first: bits = (bits >> 1) | msb(cnt > th[c]) takes channel c to bit c & 31 once the
 * word's channel 31 is in (bits of the previous word are shifted out by then), so a channel
 * costs the dot product plus LDR, QSUB (Cortex-M3: a compare), AND, ORR and the loop. Returns
 * the bits of an unfinished last word (the caller shifts them down: bits >> (32 - channels
 * in it)).
 */
BNN_BCONV_NOINLINE static uint32_t packed_channels(const uint32_t *x, const uint32_t *f,
                                                   int32_t kw, const int32_t *th, int32_t co,
                                                   int32_t ce, uint32_t *o, uint32_t bits)
{
    while (co < ce) {
        const int32_t stop = ce < (co | 31) + 1 ? ce : (co | 31) + 1; /* end of the word */
        const int32_t *t = th + co;
        const int32_t *const t_end = th + stop;
        if (kw == 9) {
            for (; t != t_end; ++t) {
                const int32_t cnt = bnn_opt_hsum_acc(0, bnn_opt_pc9(x, &f));
                bits = (bits >> 1) | (bnn_opt_gt_msb(cnt, *t) & 0x80000000u);
            }
        } else if (kw == 18) {
            for (; t != t_end; ++t) {
                const int32_t lo = bnn_opt_hsum_acc(0, bnn_opt_pc9(x, &f));
                const int32_t cnt = bnn_opt_hsum_acc(lo, bnn_opt_pc9(x + 9, &f));
                bits = (bits >> 1) | (bnn_opt_gt_msb(cnt, *t) & 0x80000000u);
            }
        } else {
            /* other lengths: the word's counts in one call (the long rows' Harley-Seal loop
             * takes all filters of a call at once), then the compares */
            int32_t cnt[32];
            const int32_t *c = cnt;
            bnn_opt_dot_many(x, f, kw, (int32_t)(t_end - t), cnt);
            f += (size_t)(t_end - t) * (size_t)kw;
            for (; t != t_end; ++t, ++c) {
                bits = (bits >> 1) | (bnn_opt_gt_msb(*c, *t) & 0x80000000u);
            }
        }
        co = stop;
        if ((co & 31) == 0) {
            o[(co >> 5) - 1] = bits;
        }
    }
    return bits;
}
#endif

/* Copies / clears the words_g words of one tap. Taps of one or two words get plain
 * assignments: a loop would become a call of memcpy / memset (GCC's loop distribution), which
 * costs more than it copies at one word. */
BNN_OPT_INLINE void copy_tap(uint32_t *d, const uint32_t *s, int32_t n)
{
    if (n == 1) {
        d[0] = s[0];
    } else if (n == 2) {
        d[0] = s[0];
        d[1] = s[1];
    } else {
        memcpy(d, s, (size_t)n * sizeof *d);
    }
}

BNN_OPT_INLINE void clear_tap(uint32_t *d, int32_t n)
{
    if (n == 1) {
        d[0] = 0u;
    } else if (n == 2) {
        d[0] = 0u;
        d[1] = 0u;
    } else {
        memset(d, 0, (size_t)n * sizeof *d);
    }
}

/* Gathers the kw words of group grp's taps of one pixel into patch (0 outside). src is the
 * pixel's first inside tap (wd->fy0, wd->fx0) of the group (unused without inside taps);
 * wd gives the inside taps, so no coordinate is tested per tap. Out of line, so its few
 * pointers stay in registers (inlined into the pixel loop, they were reloaded per tap). */
BNN_BCONV_NOINLINE static void gather(const geom_t *g, const window_t *wd, const uint32_t *src,
                                      uint32_t *patch)
{
    const int32_t wg = g->words_g, kh = g->p->win.kernel_h, kwid = g->p->win.kernel_w;
    const int32_t fx0 = wd->fx0, fx1 = wd->fx1;
    const size_t step = g->tap_step, row_step = g->row_step;
    int32_t fy, fx;
    if (wg == 1 && fx0 == 0 && fx1 == kwid && wd->fy0 == 0 && wd->fy1 == kh) {
        /* Every tap inside, one word each (up to 32 channels per group): the common case. */
        for (fy = 0; fy < kh; ++fy, src += row_step, patch += kwid) {
            const uint32_t *s = src;
            for (fx = 0; fx < kwid; ++fx, s += step) {
                patch[fx] = *s;
            }
        }
        return;
    }
    for (fy = 0; fy < kh; ++fy) {
        const int row_in = fy >= wd->fy0 && fy < wd->fy1;
        const uint32_t *s = src;
        if (row_in) {
            src += row_step;
        }
        for (fx = 0; fx < kwid; ++fx, patch += wg) {
            if (row_in && fx >= fx0 && fx < fx1) {
                copy_tap(patch, s, wg);
                s += step;
            } else {
                clear_tap(patch, wg);
            }
        }
    }
}

/* Taps [*f0, *f1) of a kernel of k taps (dilation dil) from input coordinate i0 that lie in
 * [0, size); empty as *f1 <= *f0. */
BNN_OPT_INLINE void inside_taps(int32_t i0, int32_t k, int32_t dil, int32_t size, int32_t *f0,
                                int32_t *f1)
{
    int32_t a = 0, b = k;
    while (a < k && i0 + a * dil < 0) {
        ++a;
    }
    while (b > a && i0 + (b - 1) * dil >= size) {
        --b;
    }
    *f0 = a;
    *f1 = b;
}

#if BNN_OPT_BSLICE
/* Output pixels from which the bit-sliced path pays for its per-block setup (transposing
 * the block's filters and its start planes: a few thousand instructions per block). */
#ifndef BNN_BCONV_BSLICE_MIN_PIXELS
#define BNN_BCONV_BSLICE_MIN_PIXELS 16
#endif

/* The bit-sliced path (bnn_bslice_opt.h) takes packed output of one group with filters of
 * at most BNN_BSLICE_MAX_KW words, over enough pixels. */
static int bslice_applies(const geom_t *g)
{
    const bnn_bconv2d_params_t *p = g->p;
    const int32_t pixels = p->win.batch * p->win.out_h * p->win.out_w;
    return p->out_type == BNN_OUT_PACKED && p->groups == 1 && g->kw <= BNN_BSLICE_MAX_KW
           && pixels >= BNN_BCONV_BSLICE_MIN_PIXELS;
}

/* Copies the taps of an output pixel whose taps all lie inside (src: its first tap). */
BNN_OPT_INLINE void gather_inside(const geom_t *g, const uint32_t *src, uint32_t *patch)
{
    const int32_t kh = g->p->win.kernel_h, kwid = g->p->win.kernel_w, wg = g->words_g;
    const size_t step = g->tap_step, row_step = g->row_step;
    int32_t fy, fx, j;
    for (fy = 0; fy < kh; ++fy, src += row_step) {
        const uint32_t *s = src;
        if (wg == 1) {
            for (fx = 0; fx < kwid; ++fx, s += step) {
                *patch++ = *s;
            }
        } else {
            for (fx = 0; fx < kwid; ++fx, s += step) {
                for (j = 0; j < wg; ++j) {
                    *patch++ = s[j];
                }
            }
        }
    }
}

/* Copies the inside taps of a border pixel, 0 words elsewhere (src: where its first tap
 * would be, inside or not; only inside taps are read). */
static void gather_border(const geom_t *g, const window_t *wd, const uint32_t *src,
                          uint32_t *patch)
{
    const int32_t kh = g->p->win.kernel_h, kwid = g->p->win.kernel_w, wg = g->words_g;
    int32_t fy, fx, j;
    for (fy = 0; fy < kh; ++fy, src += g->row_step) {
        const int row_in = fy >= wd->fy0 && fy < wd->fy1;
        for (fx = 0; fx < kwid; ++fx, patch += wg) {
            const uint32_t *s = src + (size_t)fx * g->tap_step;
            const int in = row_in && fx >= wd->fx0 && fx < wd->fx1;
            for (j = 0; j < wg; ++j) {
                patch[j] = in ? s[j] : 0u;
            }
        }
    }
}

/* The bits of one border pixel of block c0 (taps outside the input): 0 words for them
 * (one padding), or counted apart with zero padding. src: where its first tap would be. */
static void border_pixel(const geom_t *g, const bnn_bslice_t *bs, const uint32_t *filter,
                         int32_t c0, int32_t nc, int32_t iy0, int32_t ix0, const uint32_t *src,
                         size_t pix, uint32_t *out)
{
    const bnn_bconv2d_params_t *p = g->p;
    const bnn_window_t *w = &p->win;
    uint32_t patch[BNN_BSLICE_MAX_KW + 1];
    int32_t acc[32];
    window_t wd;
    int32_t n_out;
    inside_taps(iy0, w->kernel_h, w->dilation_h, w->in_h, &wd.fy0, &wd.fy1);
    inside_taps(ix0, w->kernel_w, w->dilation_w, w->in_w, &wd.fx0, &wd.fx1);
    if (wd.fx1 <= wd.fx0 || wd.fy1 <= wd.fy0) {
        wd.fx0 = wd.fx1 = wd.fy0 = wd.fy1 = 0; /* no inside tap */
    }
    gather_border(g, &wd, src, patch);
    n_out = p->pad_mode == BNN_BPAD_ZERO_INT
                ? g->taps - (wd.fy1 - wd.fy0) * (wd.fx1 - wd.fx0) : 0;
    if (n_out == 0) {
        out[pix * (size_t)g->words_out + (size_t)(c0 / 32)] = bnn_bslice_ge(bs, patch);
    } else {
        uint32_t packed = 0u;
        bnn_opt_dot_many(patch, filter + (size_t)c0 * (size_t)g->kw, g->kw, nc, acc);
        finish_channels(g, &wd, filter, c0, nc, n_out, pix, acc, out, &packed);
    }
}

/* The interior pixels [ox0, ox1) of one output row (every tap inside): src is the first
 * tap of pixel ox0, o its output word; pop (or NULL) the per-pixel counts of the input at
 * the same offset as src (in pixels: pc = src / words_in), so a 3x3 patch of one word per
 * tap sums nine counts instead of counting its words. */
BNN_BCONV_NOINLINE static void interior_run(const geom_t *g, const bnn_bslice_t *bs,
                                            const uint32_t *src, size_t col_step, uint32_t *o,
                                            int32_t count, const uint16_t *pc)
{
    uint32_t patch[BNN_BSLICE_MAX_KW + 1];
    const size_t o_step = (size_t)g->words_out;
    if (g->words_g == 1 && g->p->win.kernel_h == 3 && g->p->win.kernel_w == 3) {
        const size_t t = g->tap_step, r = g->row_step; /* one word per pixel: in pixels too */
        for (; count > 0; --count, src += col_step, o += o_step) {
            patch[0] = src[0];
            patch[1] = src[t];
            patch[2] = src[2 * t];
            patch[3] = src[r];
            patch[4] = src[r + t];
            patch[5] = src[r + 2 * t];
            patch[6] = src[2 * r];
            patch[7] = src[2 * r + t];
            patch[8] = src[2 * r + 2 * t];
            if (pc != NULL) {
                *o = bnn_bslice_ge_n1(bs, patch,
                                      pc[0] + pc[t] + pc[2 * t] + pc[r] + pc[r + t]
                                          + pc[r + 2 * t] + pc[2 * r] + pc[2 * r + t]
                                          + pc[2 * r + 2 * t]);
                pc += col_step;
            } else {
                *o = bnn_bslice_ge(bs, patch);
            }
        }
    } else {
        for (; count > 0; --count, src += col_step, o += o_step) {
            gather_inside(g, src, patch);
            *o = bnn_bslice_ge(bs, patch);
        }
    }
}

/*
 * Packed output, blocks of 32 output channels outermost: each block's filters become lane
 * words once (bnn_bslice_setup), then every pixel's 32 bits come from one bnn_bslice_ge
 * (bit = count > threshold = count >= threshold + 1), row by row: the interior columns of
 * a row in one tight loop, its border columns apart. Pixels with outside taps under zero
 * padding count apart (their correction is per filter): dot products and finish_channels,
 * as in the main path.
 */
BNN_BCONV_NOINLINE static void packed_bslice(const geom_t *g, const uint32_t *in,
                                             const uint32_t *filter, uint32_t *out)
{
    const bnn_bconv2d_params_t *p = g->p;
    const bnn_window_t *w = &p->win;
    const size_t col_step = (size_t)w->stride_w * (size_t)g->words_in;
    const int32_t ix_last = (w->kernel_w - 1) * w->dilation_w; /* last tap from ix0 */
    const int32_t iy_last = (w->kernel_h - 1) * w->dilation_h;
    /* interior columns [ox_lo, ox_hi): ix0 >= 0 and ix0 + ix_last < in_w */
    const int32_t ox_lo = bnn_min_i32(w->out_w, (w->pad_left + w->stride_w - 1) / w->stride_w);
    int32_t ox_hi = w->in_w - 1 - ix_last + w->pad_left < 0
                        ? 0 : (w->in_w - 1 - ix_last + w->pad_left) / w->stride_w + 1;
    const int32_t in_pixels = w->batch * w->in_h * w->in_w;
    bnn_bslice_t bs;
    uint16_t pop[BNN_BSLICE_POP_PIXELS]; /* per input pixel (one word each), shared by blocks */
    const uint16_t *pc = NULL;
    int32_t u[32];
    int32_t c0, n, oy, ox, b;
    ox_hi = bnn_max_i32(ox_lo, bnn_min_i32(ox_hi, w->out_w));
    if (g->words_in == 1 && in_pixels <= BNN_BSLICE_POP_PIXELS) {
        bnn_bslice_pixel_counts(in, in_pixels, 1, pop);
        pc = pop;
    }
    for (c0 = 0; c0 < p->channels_out; c0 += 32) {
        const int32_t nc = bnn_min_i32(32, p->channels_out - c0);
        for (b = 0; b < nc; ++b) {
            const int32_t th = p->threshold[c0 + b];
            u[b] = th == INT32_MAX ? INT32_MAX : th + 1;
        }
        bnn_bslice_setup(&bs, filter + (size_t)c0 * (size_t)g->kw, g->kw, nc, u);
        for (n = 0; n < w->batch; ++n) {
            for (oy = 0; oy < w->out_h; ++oy) {
                const int32_t iy0 = oy * w->stride_h - w->pad_top;
                const int rows_in = iy0 >= 0 && iy0 + iy_last < w->in_h;
                /* where the row's first tap would be for ox = 0 (maybe outside the input:
                 * only inside taps are read through it) */
                const uint32_t *row =
                    in + ((ptrdiff_t)(n * w->in_h + iy0) * w->in_w - w->pad_left)
                             * (ptrdiff_t)g->words_in;
                const size_t pix0 = ((size_t)n * (size_t)w->out_h + (size_t)oy)
                                    * (size_t)w->out_w;
                for (ox = 0; ox < w->out_w; ++ox) {
                    if (rows_in && ox == ox_lo && ox_hi > ox_lo) {
                        interior_run(g, &bs, row + (size_t)ox * col_step, col_step,
                                     out + (pix0 + (size_t)ox) * (size_t)g->words_out
                                         + (size_t)(c0 / 32),
                                     ox_hi - ox_lo,
                                     pc != NULL ? pc + (row - in) + (ptrdiff_t)ox * (ptrdiff_t)col_step
                                                : NULL);
                        ox = ox_hi - 1;
                        continue;
                    }
                    border_pixel(g, &bs, filter, c0, nc, iy0, ox * w->stride_w - w->pad_left,
                                 row + (size_t)ox * col_step, pix0 + (size_t)ox, out);
                }
            }
        }
    }
}
#endif

int bnn_bconv2d_opt_supports(const bnn_bconv2d_params_t *p)
{
    int32_t taps, words_g;
    if (p == NULL || p->groups < 1 || p->channels_in < 1
        || (p->pad_mode != BNN_BPAD_ONE && p->pad_mode != BNN_BPAD_ZERO_INT)) {
        return 0;
    }
    taps = p->win.kernel_h * p->win.kernel_w;
    words_g = BNN_WORDS(p->channels_in / p->groups);
    return taps == 1 || taps * words_g <= BNN_BCONV_OPT_PATCH_WORDS;
}

/* Every output pixel, all channels of it at a time (the path for everything the bit-sliced
 * one does not take). Out of line: its patch and counts are not on the stack under the
 * bit-sliced path. */
BNN_BCONV_NOINLINE static void pixels_path(const geom_t *gp, const uint32_t *in,
                                           const uint32_t *filter, void *out)
{
    const geom_t g = *gp;
    const bnn_bconv2d_params_t *p = g.p;
    const bnn_window_t *w = &p->win;
    uint32_t patch[BNN_BCONV_OPT_PATCH_WORDS];
    int32_t acc[BNN_BCONV_OPT_CHUNK];
    int32_t n, oy, ox, grp, co;
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
                /* Outside taps count apart only with zero padding. */
                n_out = p->pad_mode == BNN_BPAD_ZERO_INT
                            ? g.taps - (wd.fy1 - wd.fy0) * (wd.fx1 - wd.fx0) : 0;
                for (grp = 0; grp < p->groups; ++grp) {
                    const int32_t co_end = (grp + 1) * g.cout_g;
                    const uint32_t *x;
                    if (g.taps == 1 && wd.fy1 > wd.fy0) {
                        /* 1x1 with the tap inside: the input pixel itself. */
                        x = in + (((size_t)n * (size_t)w->in_h + (size_t)iy0) * (size_t)w->in_w
                                  + (size_t)ix0) * (size_t)g.words_in
                            + (size_t)grp * (size_t)g.words_g;
                    } else {
                        const uint32_t *src = in; /* first inside tap, if any */
                        if (wd.fy1 > wd.fy0) {
                            src += (((size_t)n * (size_t)w->in_h
                                     + (size_t)(iy0 + wd.fy0 * w->dilation_h)) * (size_t)w->in_w
                                    + (size_t)(ix0 + wd.fx0 * w->dilation_w)) * (size_t)g.words_in
                                   + (size_t)grp * (size_t)g.words_g;
                        }
                        gather(&g, &wd, src, patch);
                        x = patch;
                    }
#if BNN_OPT_DOT_INLINE
                    if (p->out_type == BNN_OUT_PACKED && n_out == 0) {
                        uint32_t *const o = (uint32_t *)out + pix * (size_t)g.words_out;
                        co = grp * g.cout_g;
                        packed = packed_channels(x, filter + (size_t)co * (size_t)g.kw, g.kw,
                                                 p->threshold, co, co_end, o, packed);
                        if (co_end == p->channels_out && (co_end & 31) != 0) {
                            o[co_end >> 5] = packed >> (32 - (co_end & 31));
                        }
                        continue;
                    }
#endif
                    for (co = grp * g.cout_g; co < co_end; co += BNN_BCONV_OPT_CHUNK) {
                        const int32_t nc = co_end - co < BNN_BCONV_OPT_CHUNK
                                               ? co_end - co : BNN_BCONV_OPT_CHUNK;
                        bnn_opt_dot_many(x, filter + (size_t)co * (size_t)g.kw, g.kw, nc, acc);
                        finish_channels(&g, &wd, filter, co, nc, n_out, pix, acc, out, &packed);
                    }
                }
            }
        }
    }
}

bnn_status_t bnn_bconv2d_opt(const bnn_bconv2d_params_t *p, const uint32_t *in,
                             const uint32_t *filter, void *out, void *scratch)
{
    const bnn_window_t *w = &p->win;
    geom_t g;
    bnn_status_t st;
    (void)scratch;

    /* The reference's checks, statement for statement, so errors are the same (a shared
     * out-of-line check changed the reference's code generation: +6% instructions for
     * bnn_bconv2d_ref on the M4, measured). */
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
    g.kw = g.taps * g.words_g;
    g.tap_step = (size_t)w->dilation_w * (size_t)g.words_in;
    g.row_step = (size_t)w->dilation_h * (size_t)w->in_w * (size_t)g.words_in;
#if BNN_OPT_BSLICE
    if (bslice_applies(&g)) {
        packed_bslice(&g, in, filter, (uint32_t *)out);
        return BNN_OK;
    }
#endif

    pixels_path(&g, in, filter, out);
    return BNN_OK;
}
