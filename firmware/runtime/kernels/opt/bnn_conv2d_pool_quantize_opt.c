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
 *    with the shared dot products (bnn_opt_dot_many, one call per block); zero
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
 *    No FMA: the build uses -ffp-contract=off (VMLA rounds the product and the sum
 *    separately, exactly as those two statements).
 * 4. With a max-pool or a binary pool, a monotone chain is pooled on its accumulators (see
 *    "Monotone chains" below): per window, the accumulators of its positions and, for float
 *    sources, one compare with a per-channel threshold found once per call by bisection
 *    over the exact chain. The first layer's 3x3-on-one-channel case with a 2x2 window runs
 *    a VMLA loop on a 4x4 input patch held in FPU registers (pool4_k9).
 * 5. Cores without an FPU (every float operation a library call) take only path 4, channel
 *    by channel with an early exit at the first position at or above the threshold, and no
 *    weight table on their 2 KB stacks (small_bits).
 * Stages, pooling, quantize and binary pooling copy the reference's statements.
 */
#include <float.h>
#include <string.h>

#include "bnn/bnn_fused.h"
#include "bnn_bdot_opt.h"
#include "bnn_bslice_opt.h"
#include "bnn_conv2d_pool_quantize_opt.h"

/* Stack limits. Largest packed patch of the LceBconv2d source (KH * KW * words; 4 + 1
 * bytes per word) and largest KH * KW * C_in of the float source (its float patch and the
 * 32 x K sign table: 4 + 128 bytes per unit). Cores without an FPU here are the small ones
 * (M0 with a 2 KB stack, the M3 board with 1.5 KB). */
#ifndef BNN_FUSED_OPT_SMALL_STACK /* a test build may force it (tests/firmware_opt) */
#if defined(__arm__) && !defined(__ARM_FP)
#define BNN_FUSED_OPT_SMALL_STACK 1
#else
#define BNN_FUSED_OPT_SMALL_STACK 0
#endif
#endif
#ifndef BNN_FUSED_OPT_PATCH_WORDS
#define BNN_FUSED_OPT_PATCH_WORDS (BNN_FUSED_OPT_SMALL_STACK ? 72 : 160)
#endif
#ifndef BNN_FUSED_OPT_MAX_K
#define BNN_FUSED_OPT_MAX_K (BNN_FUSED_OPT_SMALL_STACK ? 9 : 32)
#endif

#define BLK 32

#if BNN_FUSED_OPT_SMALL_STACK && BNN_FUSED_OPT_MAX_K > 32
#error "cores without an FPU keep +-scale weights as 32-bit sign masks: BNN_FUSED_OPT_MAX_K <= 32"
#endif

#if defined(__GNUC__)
#define BNN_FUSED_NOINLINE __attribute__((noinline))
#else
#define BNN_FUSED_NOINLINE
#endif

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
    float *sg; /* float sources: the block's weights, [channel in block][k] (+-1.0f for
                  +-scale weights), direction-adjusted when mono; on the caller's stack */
    uint32_t *signs; /* instead of sg on cores without an FPU (+-scale weights, k <= 32):
                        bit kk of signs[b] set = subtract tap kk, direction-adjusted */
    /* Pooling on the accumulator (see "Monotone chains" below) */
    float in_bound;   /* float sources: max |input|, or -1 when the input is not all finite */
    int mono;         /* 1: this block pools the accumulators */
    int8_t dir[BLK];  /* per channel: +1 the chain never decreases with the accumulator, -1
                         it never increases (float sources: sg holds the negated weights) */
    float *abound;    /* float sources: bound on |accumulator| per channel [BLK] */
    float *thr;       /* float sources: the output bit is m < thr for m = dir * accumulator */
#if BNN_OPT_BSLICE
    /* LceBconv2d source pooled on the counts, bit-sliced (see bslice_setup): NULL when not
     * taken for this block; the bit of a position is (count >= T) ^ bit b of bs_inv. */
    bnn_bslice_t *bs;
    uint32_t bs_inv;
    const uint16_t *bs_pop; /* per input pixel counts (NULL: count each patch) */
#endif
} ctx_t;

/* bnn_quantize_f32_ref's rule: bit = (x <= -FLT_MIN), decided on the bit pattern. */
BNN_OPT_INLINE uint32_t sign_bit(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return (u >= 0x80800000u && u <= 0xFF800000u) ? 1u : 0u;
}

/* ---- LceBconv2d source ---- */

/* The packed patch of map pixel (n, oy, ox) (0 words at outside taps: one padding) and, in
 * outside[], which taps are outside; returns their number under zero padding (0 with one
 * padding, where the 0 words ARE the padding). With pop (per-pixel counts of the input),
 * *n1 = the patch's count. */
/* Copies the words_g words of input pixel pix into dst; returns its count from pop (0 when
 * pop is NULL). */
BNN_OPT_INLINE int32_t copy_pixel(const ctx_t *cx, const uint32_t *in, size_t pix,
                                  const uint16_t *pop, uint32_t *dst)
{
    const uint32_t *src = in + pix * (size_t)cx->words_in;
    int32_t j;
    for (j = 0; j < cx->words_g; ++j) {
        dst[j] = src[j];
    }
    return pop != NULL ? pop[pix] : 0;
}

static int32_t bconv_patch(const ctx_t *cx, int32_t n, int32_t oy, int32_t ox, uint32_t *patch,
                           uint8_t *outside, const uint16_t *pop, int32_t *n1)
{
    const bnn_bconv2d_params_t *bp = cx->p->bconv;
    const bnn_window_t *w = &bp->win;
    const uint32_t *in = (const uint32_t *)cx->in;
    const int32_t iy0 = oy * w->stride_h - w->pad_top;
    const int32_t ix0 = ox * w->stride_w - w->pad_left;
    int32_t fy, fx, j, t = 0, n_out = 0, count = 0;
    uint32_t *dst = patch;
    if (iy0 >= 0 && iy0 + (w->kernel_h - 1) * w->dilation_h < w->in_h && ix0 >= 0
        && ix0 + (w->kernel_w - 1) * w->dilation_w < w->in_w) {
        /* every tap inside (the common case): no coordinate tests (measured: folding this
         * into the loop below costs 0.6% of the M4 inference) */
        const size_t tap = (size_t)w->dilation_w, row = (size_t)w->dilation_h * (size_t)w->in_w;
        size_t pix0 = ((size_t)n * (size_t)w->in_h + (size_t)iy0) * (size_t)w->in_w
                      + (size_t)ix0;
        for (fy = 0; fy < w->kernel_h; ++fy, pix0 += row) {
            size_t pix = pix0;
            for (fx = 0; fx < w->kernel_w; ++fx, ++t, pix += tap, dst += cx->words_g) {
                count += copy_pixel(cx, in, pix, pop, dst);
                outside[t] = 0;
            }
        }
    } else {
        for (fy = 0; fy < w->kernel_h; ++fy) {
            const int32_t iy = iy0 + fy * w->dilation_h;
            const int row_in = iy >= 0 && iy < w->in_h;
            for (fx = 0; fx < w->kernel_w; ++fx, ++t, dst += cx->words_g) {
                const int32_t ix = ix0 + fx * w->dilation_w;
                if (row_in && ix >= 0 && ix < w->in_w) {
                    count += copy_pixel(cx, in,
                                        ((size_t)n * (size_t)w->in_h + (size_t)iy)
                                                * (size_t)w->in_w + (size_t)ix,
                                        pop, dst);
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
    }
    if (n1 != NULL) {
        *n1 = count;
    }
    return bp->pad_mode == BNN_BPAD_ZERO_INT ? n_out : 0;
}

/* x2[b] = the transform's input 2 * count + n_out * C_in (zero padding: the outside taps'
 * filter counts removed) of channel c0 + b at map pixel (n, oy, ox), b < nc. */
static void bconv_x2(const ctx_t *cx, int32_t n, int32_t oy, int32_t ox, int32_t *x2)
{
    const bnn_fused_params_t *p = cx->p;
    const uint32_t *filter = (const uint32_t *)p->filter;
    const int32_t cg = p->bconv->channels_in;
    uint32_t patch[BNN_FUSED_OPT_PATCH_WORDS];
    uint8_t outside[BNN_FUSED_OPT_PATCH_WORDS]; /* 1 per outside tap (zero padding) */
    int32_t b, t;
    const int32_t n_out = bconv_patch(cx, n, oy, ox, patch, outside, NULL, NULL);
    /* The block's counts in one call (four filters per vector on the M55), in place. */
    bnn_opt_dot_many(patch, filter + (size_t)cx->c0 * (size_t)cx->kw, cx->kw, cx->nc, x2);
    for (b = 0; b < cx->nc; ++b) {
        if (n_out > 0) {
            const uint32_t *fc = filter + (size_t)(cx->c0 + b) * (size_t)cx->kw;
            for (t = 0; t < cx->taps; ++t) {
                if (outside[t]) {
                    x2[b] -= bnn_opt_count(fc + (size_t)t * (size_t)cx->words_g, cx->words_g);
                }
            }
        }
        x2[b] = 2 * x2[b] + n_out * cg;
    }
}

/* v[b] = the LceBconv2d output (float, or int8 as a float) of channel c0 + b for x2[b]:
 * the reference's inline bnn_bconv_transform. */
static void bconv_finish(const ctx_t *cx, const int32_t *x2, float *v)
{
    const bnn_bconv2d_params_t *bp = cx->p->bconv;
    int32_t b;
    for (b = 0; b < cx->nc; ++b) {
        const int32_t c = cx->c0 + b;
        const float y = bnn_bconv_transform(x2[b], bp->clamp_min, bp->clamp_max, bp->mul[c],
                                            bp->bias[c]);
        v[b] = bp->out_type == BNN_OUT_S8 ? (float)bnn_opt_round_sat_s8(y) : y;
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
                const uint32_t neg = (f[ci / 32] >> (ci % 32)) & 1u;
                if (cx->signs != NULL) {
                    cx->signs[b] = (t == 0 && ci == 0 ? 0u : cx->signs[b])
                                   | neg << (t * cin + ci);
                } else {
                    cx->sg[b * cx->k + t * cin + ci] = neg ? -1.0f : 1.0f;
                }
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

/* x[kk] = the float source's input at tap kk of map pixel (n, oy, ox), 0.0f outside. */
static void fconv_gather(const ctx_t *cx, int32_t n, int32_t oy, int32_t ox, float *x)
{
    const bnn_conv2d_f32_params_t *cp = cx->p->conv_f32;
    const bnn_window_t *w = &cp->win;
    const float *in = (const float *)cx->in;
    const int32_t cin = cp->in_c;
    int32_t fy, fx, ci, kk = 0;
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
}

/* v[b]: the accumulator of channel c0 + b in; the CONV_2D's output out (scale, bias and fused
 * activation as bnn_conv2d_binw_f32_ref / bnn_conv2d_f32_ref apply them). */
static void fconv_finish(const ctx_t *cx, float *v)
{
    const bnn_fused_params_t *p = cx->p;
    const bnn_conv2d_f32_params_t *cp = p->conv_f32;
    const float *bias = (const float *)p->bias;
    int32_t b;
    for (b = 0; b < cx->nc; ++b) {
        const int32_t c = cx->c0 + b;
        float y = v[b];
        if (p->src == BNN_FUSED_CONV_BINW_F32) {
            y = y * p->scale[c];
        }
        if (bias != NULL) {
            y = y + bias[c];
        }
        v[b] = bnn_clamp_f(y, cp->act_min, cp->act_max);
    }
}

/* v[b] = source value of channel c0 + b at map pixel (n, oy, ox). */
static void fconv_block(const ctx_t *cx, int32_t n, int32_t oy, int32_t ox, float *v)
{
    float x[BNN_FUSED_OPT_MAX_K];
    fconv_gather(cx, n, oy, ox, x);
    if (cx->p->src == BNN_FUSED_CONV_F32) {
        acc_mul((const float *)cx->p->filter + (size_t)cx->c0 * (size_t)cx->k, cx->k, cx->nc,
                x, v);
    } else {
        acc_mul(cx->sg, cx->k, cx->nc, x, v);
    }
    fconv_finish(cx, v);
}

/* ---- the chain ---- */

/* The elementwise stages, in order, on the source values v[b] of channels c0 + b. */
static void apply_stages(const ctx_t *cx, float *v)
{
    const bnn_fused_params_t *p = cx->p;
    int32_t s, b;
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

/* Source values after the stages, channels c0 .. c0 + nc - 1 at map pixel (n, y, x). */
static void map_block(const ctx_t *cx, int32_t n, int32_t y, int32_t x, float *v)
{
    if (cx->p->src == BNN_FUSED_BCONV) {
        int32_t x2[BLK];
        bconv_x2(cx, n, y, x, x2);
        bconv_finish(cx, x2, v);
    } else {
        fconv_block(cx, n, y, x, v);
    }
    apply_stages(cx, v);
}

/* ---- Monotone chains: max-pooling the accumulators ----
 *
 * With a max-pool between the source and the quantize, the reference evaluates the whole
 * chain value h(a) (the source's output transform, then the stages) at every position of a
 * pooling window and keeps the largest. When h never decreases as the accumulator a grows
 * (or never increases), max_i h(a_i) = h(max_i a_i) (or h(min_i a_i)): one chain evaluation
 * per window instead of one per position, and the positions only compare accumulators.
 * Every step of a chain is monotone under IEEE rounding as long as no NaN appears: x * m for
 * a fixed m (reversing for m < 0, constant for m = 0), x + c, x - c, c - x (reversing),
 * clamp, the exact int -> float conversion, the int8 rounding. A NaN needs a non-finite
 * operand or an overflow (inf * 0, inf - inf), so setup_mono() proves per call and block
 * that every value stays below BOUND in magnitude: a finite input (float sources: one pass
 * over it, in_bound), finite weights, and a bound carried through scale, bias, clamps and
 * stages with 1 % slack for rounding, tested before every clamp (a clamp would turn an
 * infinite bound into a finite one). If any of that fails, the block takes the
 * per-position path (cores without an FPU: the whole call goes to the reference). The pool's init value (-FLT_MAX, or -128 for int8) is below every
 * value then, so the reference's maximum is a chain value too.
 * A binary max-pool right after the quantize (no MAX_POOL_2D: conv -> sign -> LceBMaxPool2d,
 * the usual first layer) is the same: both quantize rules are "value below a threshold", so
 * the AND of the window's bits is the bit of the window's largest value.
 * Float sources maximize dir * a: the weight table sg holds dir * w, and x * (-w) = -(x * w)
 * exactly, and so are the running sums (round to nearest is symmetric), up to the sign of a
 * zero. A zero's sign cannot change a bit: every later step maps +0 and -0 to equal values
 * or to zeros of either sign, and both quantize rules give 0 for either zero.
 */
#define BOUND 1e37f

/* Largest |clamp(y)| over |y| <= yb: clamp is monotone, so an end of [-yb, yb] gives it. */
static float clamp_bound(float yb, float lo, float hi)
{
    const float a = bnn_clamp_f(-yb, lo, hi), b = bnn_clamp_f(yb, lo, hi);
    const float aa = a < 0.0f ? -a : a, ab = b < 0.0f ? -b : b;
    return aa > ab ? aa : ab;
}

static float absf(float x)
{
    return x < 0.0f ? -x : x;
}

static int sgn(float x)
{
    return x > 0.0f ? 1 : (x < 0.0f ? -1 : 0);
}

/* Decides cx->mono for the block c0 .. c0 + nc - 1 and fills cx->dir; with a float source it
 * also rewrites cx->sg to the direction-adjusted weights (cx->sg must hold the +-1 signs for
 * CONV_BINW_F32 on entry). */
static void setup_mono(ctx_t *cx)
{
    const bnn_fused_params_t *p = cx->p;
    int32_t b, s, kk;
    cx->mono = 0;
    if (!p->has_pool && !p->has_bpool) {
        return;
    }
    if (p->src != BNN_FUSED_BCONV && !(cx->in_bound >= 0.0f)) {
        return; /* a non-finite input value */
    }
    if (p->src == BNN_FUSED_BCONV && BNN_FUSED_OPT_SMALL_STACK) {
        return; /* 2 KB stacks: mono_bits' frame under bconv_x2's costs 300 bytes there */
    }
    for (b = 0; b < cx->nc; ++b) {
        const int32_t c = cx->c0 + b;
        float yb;
        int d = 1;
        if (p->src == BNN_FUSED_BCONV) {
            const bnn_bconv2d_params_t *bp = p->bconv;
            const int32_t bits = bp->win.kernel_h * bp->win.kernel_w * bp->channels_in;
            /* x2 lies in [0, 2 * bits]; the integer clamp is monotone, so its image lies
             * between the clamps of the ends (no negation: clamp_min may be INT32_MIN). */
            const float lo = absf((float)bnn_clamp_i32(0, bp->clamp_min, bp->clamp_max));
            const float hi = absf((float)bnn_clamp_i32(2 * bits, bp->clamp_min, bp->clamp_max));
            const float xb = lo > hi ? lo : hi;
            yb = (xb * absf(bp->mul[c]) + absf(bp->bias[c])) * 1.01f;
            d = sgn(bp->mul[c]);
            if (!(yb < BOUND)) {
                return; /* also NaN */
            }
            if (bp->out_type == BNN_OUT_S8) {
                yb = yb < 128.0f ? yb : 128.0f;
            }
        } else {
            const bnn_conv2d_f32_params_t *cp = p->conv_f32;
            const float *bias = (const float *)p->bias;
            float wb = 1.0f;
            if (p->src == BNN_FUSED_CONV_F32) {
                const float *f = (const float *)p->filter + (size_t)c * (size_t)cx->k;
                wb = 0.0f;
                for (kk = 0; kk < cx->k; ++kk) {
                    const float a = absf(f[kk]);
                    wb = a > wb ? a : wb;
                    if (!(a < BOUND)) {
                        return; /* also NaN */
                    }
                }
            }
            yb = (float)cx->k * cx->in_bound * wb * 1.01f;
            if (!(yb < BOUND)) {
                return;
            }
            cx->abound[b] = yb;
            if (p->src == BNN_FUSED_CONV_BINW_F32) {
                yb = yb * absf(p->scale[c]) * 1.01f;
                d = sgn(p->scale[c]);
            }
            if (bias != NULL) {
                yb = (yb + absf(bias[c])) * 1.01f;
            }
            if (!(yb < BOUND)) {
                return; /* checked before the clamp, which would hide an infinity */
            }
            yb = clamp_bound(yb, cp->act_min, cp->act_max);
        }
        for (s = 0; s < p->n_stages; ++s) {
            const bnn_fused_stage_t *st = &p->stages[s];
            const float k = st->c != NULL ? st->c[st->per_channel ? c : 0] : 0.0f;
            switch (st->op) {
            case BNN_FUSED_MUL:
                yb = yb * absf(k) * 1.01f;
                d *= sgn(k);
                break;
            case BNN_FUSED_ADD:
            case BNN_FUSED_SUB_XC:
                yb = (yb + absf(k)) * 1.01f;
                break;
            case BNN_FUSED_SUB_CX:
                yb = (yb + absf(k)) * 1.01f;
                d = -d;
                break;
            default:
                break;
            }
            if (!(yb < BOUND)) {
                return; /* before the stage's clamp, which would hide an infinity */
            }
            yb = clamp_bound(yb, st->act_min, st->act_max);
        }
        if (!(yb < BOUND)) {
            return;
        }
        cx->dir[b] = (int8_t)(d < 0 ? -1 : 1);
    }
    if (p->src == BNN_FUSED_CONV_F32 && cx->sg != NULL) {
        for (b = 0; b < cx->nc; ++b) {
            const float *f = (const float *)p->filter + (size_t)(cx->c0 + b) * (size_t)cx->k;
            for (kk = 0; kk < cx->k; ++kk) {
                cx->sg[b * cx->k + kk] = cx->dir[b] < 0 ? -f[kk] : f[kk];
            }
        }
    } else if (p->src == BNN_FUSED_CONV_BINW_F32 && cx->signs != NULL) {
        for (b = 0; b < cx->nc; ++b) {
            if (cx->dir[b] < 0) {
                cx->signs[b] ^= cx->k == 32 ? 0xFFFFFFFFu : (1u << cx->k) - 1u;
            }
        }
    } else if (p->src == BNN_FUSED_CONV_BINW_F32) {
        for (b = 0; b < cx->nc; ++b) {
            if (cx->dir[b] < 0) {
                for (kk = 0; kk < cx->k; ++kk) {
                    cx->sg[b * cx->k + kk] = -cx->sg[b * cx->k + kk];
                }
            }
        }
    }
    cx->mono = 1;
}

/* max |x| over the float input, or -1 when a value is not finite. */
static float input_bound(const float *in, size_t n)
{
    float m = 0.0f;
    size_t i;
    for (i = 0; i < n; ++i) {
        const float a = absf(in[i]);
        if (!(a <= FLT_MAX)) {
            return -1.0f;
        }
        m = a > m ? a : m;
    }
    return m;
}

/*
 * The first layer's common case, 3x3 conv on one input channel, stride 1, with a full 2x2
 * pooling window: the window's four positions read a 4x4 input patch x (row-major, 0.0f
 * outside). best[b] = the largest of the four accumulators of channel b (weights wt, 9 per
 * channel, in (fy, fx) order; each accumulator a = a + x * w from +0, bnn_conv2d_f32_ref's
 * order). On Thumb-2 cores with a single-precision FPU the patch lives in s0-s15, a
 * channel's weights are one VLDM into s16-s24, and each product-sum is a VMLA, which on
 * these FPUs rounds the product before the addition (it is not a fused multiply-add), i.e.
 * exactly "prod = x * w; a = a + prod": 52 instructions per channel and window.
 */
#if defined(__ARM_FP) && (__ARM_FP & 4)                                                   \
    && (defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__)                          \
        || defined(__ARM_ARCH_8_1M_MAIN__))
#define BNN_FUSED_POOL4_VFP 1
#else
#define BNN_FUSED_POOL4_VFP 0
#endif

#if BNN_FUSED_POOL4_VFP
/* One output position: acc = (patch taps a..i) . (s16..s24). The first product starts the
 * sum (VMUL) instead of adding it to +0: that can only turn a -0 sum into +0 and back, and
 * the sign of a zero never reaches a bit (see "Monotone chains"). */
#define POS(acc, a, b, c, d, e, f, g, h, i)                                                   \
    "vmul.f32 " acc ", s" #a ", s16\n\t"                                                      \
    "vmla.f32 " acc ", s" #b ", s17\n\t"                                                      \
    "vmla.f32 " acc ", s" #c ", s18\n\t"                                                      \
    "vmla.f32 " acc ", s" #d ", s19\n\t"                                                      \
    "vmla.f32 " acc ", s" #e ", s20\n\t"                                                      \
    "vmla.f32 " acc ", s" #f ", s21\n\t"                                                      \
    "vmla.f32 " acc ", s" #g ", s22\n\t"                                                      \
    "vmla.f32 " acc ", s" #h ", s23\n\t"                                                      \
    "vmla.f32 " acc ", s" #i ", s24\n\t"
/* acc = max(acc, other) */
#define MAX(acc, other)                                                                      \
    "vcmp.f32 " other ", " acc "\n\t"                                                        \
    "vmrs APSR_nzcv, fpscr\n\t"                                                              \
    "it gt\n\t"                                                                              \
    "vmovgt.f32 " acc ", " other "\n\t"

static void pool4_k9(const float *x, const float *wt, int32_t nc, float *best)
{
    __asm__ volatile(
        "vldmia %[x], {s0-s15}\n\t"
        "1:\n\t"
        "vldmia %[w]!, {s16-s24}\n\t"
        POS("s25", 0, 1, 2, 4, 5, 6, 8, 9, 10)
        POS("s26", 1, 2, 3, 5, 6, 7, 9, 10, 11)
        POS("s27", 4, 5, 6, 8, 9, 10, 12, 13, 14)
        POS("s28", 5, 6, 7, 9, 10, 11, 13, 14, 15)
        MAX("s25", "s26")
        MAX("s27", "s28")
        MAX("s25", "s27")
        "vstmia %[b]!, {s25}\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        : [w] "+r"(wt), [b] "+r"(best), [n] "+r"(nc)
        : [x] "r"(x), "m"(*(const float(*)[16])x)
        : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12",
          "s13", "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24",
          "s25", "s26", "s27", "s28", "cc", "memory");
}

/*
 * The bits instead of the maxima, for the monotone chains of the float source (bit b = the
 * largest of the four accumulators is below thr[b] = every one of them is, all finite): a
 * channel stops at the first position at or above its threshold (bit 0), so a window
 * whose bit is 0 costs its first such position only; 12 instructions per position computed.
 */
static uint32_t pool4_bits(const float *x, const float *wt, const float *thr, int32_t nc)
{
    uint32_t bits = 0u, bit = 1u;
    __asm__ volatile(
        "vldmia %[x], {s0-s15}\n\t"
        "1:\n\t"
        "vldmia %[w]!, {s16-s24}\n\t"
        "vldmia %[t]!, {s29}\n\t"
        POS("s25", 0, 1, 2, 4, 5, 6, 8, 9, 10)
        "vcmp.f32 s25, s29\n\t"
        "vmrs APSR_nzcv, fpscr\n\t"
        "bge 2f\n\t"
        POS("s25", 1, 2, 3, 5, 6, 7, 9, 10, 11)
        "vcmp.f32 s25, s29\n\t"
        "vmrs APSR_nzcv, fpscr\n\t"
        "bge 2f\n\t"
        POS("s25", 4, 5, 6, 8, 9, 10, 12, 13, 14)
        "vcmp.f32 s25, s29\n\t"
        "vmrs APSR_nzcv, fpscr\n\t"
        "bge 2f\n\t"
        POS("s25", 5, 6, 7, 9, 10, 11, 13, 14, 15)
        "vcmp.f32 s25, s29\n\t"
        "vmrs APSR_nzcv, fpscr\n\t"
        "bge 2f\n\t"
        "orr %[bits], %[bits], %[bit]\n"
        "2:\n\t"
        "lsl %[bit], %[bit], #1\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        : [w] "+r"(wt), [t] "+r"(thr), [n] "+r"(nc), [bits] "+r"(bits), [bit] "+r"(bit)
        : [x] "r"(x), "m"(*(const float(*)[16])x)
        : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12",
          "s13", "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24",
          "s25", "s29", "cc", "memory");
    return bits;
}
#undef POS
#undef MAX
#else
static void pool4_k9(const float *x, const float *wt, int32_t nc, float *best)
{
    static const uint8_t origin[4] = {0, 1, 4, 5};
    static const uint8_t tap[9] = {0, 1, 2, 4, 5, 6, 8, 9, 10};
    int32_t b, q, t;
    for (b = 0; b < nc; ++b, wt += 9) {
        float m = 0.0f;
        for (q = 0; q < 4; ++q) {
            float a = 0.0f;
            for (t = 0; t < 9; ++t) {
                const float prod = x[origin[q] + tap[t]] * wt[t];
                a = a + prod;
            }
            m = q == 0 || a > m ? a : m;
        }
        best[b] = m;
    }
}
#endif

/* LceQuantize of the values v[b] of channels c0 + b: bit b set for a negative value. */
static uint32_t quantize_bits(const ctx_t *cx, const float *v)
{
    uint32_t bits = 0u;
    int32_t b;
    if (cx->p->quant_s8) {
        const float zp = (float)cx->p->zero_point;
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

/* m[b] = the largest direction-adjusted accumulator dir * a of channel c0 + b over the window
 * positions [fy0, fy1) x [fx0, fx1) (not empty) from map pixel (y0, x0); float sources. */
/* The first layer's common case (see pool4_k9): 1 and the 4x4 input patch under the window
 * in x when it applies, else 0. */
static int pool4_patch(const ctx_t *cx, int32_t n, int32_t y0, int32_t x0, int32_t fy0,
                       int32_t fy1, int32_t fx0, int32_t fx1, float *x)
{
    const bnn_window_t *w = &cx->p->conv_f32->win;
    const float *in = (const float *)cx->in;
    int32_t r, q, iy0, ix0;
    if (!(cx->sg != NULL && cx->k == 9 && cx->p->conv_f32->in_c == 1 && w->kernel_h == 3
          && w->stride_h == 1 && w->stride_w == 1 && w->dilation_h == 1 && w->dilation_w == 1
          && fy1 - fy0 == 2 && fx1 - fx0 == 2)) {
        return 0;
    }
    iy0 = y0 + fy0 - w->pad_top;
    ix0 = x0 + fx0 - w->pad_left;
    if (iy0 >= 0 && iy0 + 3 < w->in_h && ix0 >= 0 && ix0 + 3 < w->in_w) {
        const float *row = in + ((size_t)n * (size_t)w->in_h + (size_t)iy0) * (size_t)w->in_w
                           + (size_t)ix0;
        for (r = 0; r < 4; ++r, row += w->in_w, x += 4) { /* inside: four rows of four */
            x[0] = row[0];
            x[1] = row[1];
            x[2] = row[2];
            x[3] = row[3];
        }
        return 1;
    }
    for (r = 0; r < 4; ++r) {
        const int32_t iy = iy0 + r;
        for (q = 0; q < 4; ++q) {
            const int32_t ix = ix0 + q;
            x[4 * r + q] = iy >= 0 && iy < w->in_h && ix >= 0 && ix < w->in_w
                               ? in[((size_t)n * (size_t)w->in_h + (size_t)iy)
                                        * (size_t)w->in_w + (size_t)ix]
                               : 0.0f;
        }
    }
    return 1;
}

BNN_FUSED_NOINLINE static void float_best(const ctx_t *cx, int32_t n, int32_t y0, int32_t x0,
                                          int32_t fy0, int32_t fy1, int32_t fx0, int32_t fx1,
                                          float *m)
{
    int32_t fy, fx, b;
    {
        float x[16]; /* the 4x4 input patch under the four positions */
        if (pool4_patch(cx, n, y0, x0, fy0, fy1, fx0, fx1, x)) {
            pool4_k9(x, cx->sg, cx->nc, m);
            return;
        }
    }
    for (fy = fy0; fy < fy1; ++fy) {
        for (fx = fx0; fx < fx1; ++fx) {
            const int first = fy == fy0 && fx == fx0;
            float x[BNN_FUSED_OPT_MAX_K], e[BLK];
            fconv_gather(cx, n, y0 + fy, x0 + fx, x);
            acc_mul(cx->sg, cx->k, cx->nc, x, e);
            for (b = 0; b < cx->nc; ++b) {
                m[b] = first || e[b] > m[b] ? e[b] : m[b];
            }
        }
    }
}

/* v[b]: m = dir * a in, the chain's value out (source output, stages, the pool's clamp):
 * what the reference's pooled value is for a window whose best accumulator is a. */
static void float_chain(const ctx_t *cx, float *v)
{
    const bnn_fused_params_t *p = cx->p;
    int32_t b;
    for (b = 0; b < cx->nc; ++b) {
        v[b] = cx->dir[b] < 0 ? -v[b] : v[b];
    }
    fconv_finish(cx, v);
    apply_stages(cx, v);
    if (p->has_pool) {
        for (b = 0; b < cx->nc; ++b) {
            v[b] = bnn_clamp_f(v[b], p->pool_act_min, p->pool_act_max);
        }
    }
}

/* Float order as unsigned integers (key(a) < key(b) iff a < b, -0 just below +0). */
static uint32_t float_key(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

static float key_float(uint32_t k)
{
    const uint32_t u = (k & 0x80000000u) ? k & 0x7FFFFFFFu : ~k;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/*
 * Float sources, cx->mono: the output bit of a window is a non-increasing function of
 * m = dir * a over |a| <= abound (the chain never decreases in m, and a quantized bit is
 * "value below a threshold"), so it is m < thr for one float thr per channel. Found by a
 * bisection over the float order, all channels at once, each probe evaluated with the
 * reference's own operations (float_chain, quantize_bits): at most 33 probes per block, and
 * then every window costs its accumulators and one compare per channel.
 */
static void float_thresholds(ctx_t *cx)
{
    uint32_t lo[BLK], hi[BLK];
    int32_t b;
    int busy = 1;
    for (b = 0; b < cx->nc; ++b) {
        lo[b] = float_key(-cx->abound[b]);
        hi[b] = float_key(cx->abound[b]) + 1u; /* the smallest key with bit 0 is in [lo, hi] */
    }
    while (busy) {
        float v[BLK];
        uint32_t bits;
        busy = 0;
        for (b = 0; b < cx->nc; ++b) {
            v[b] = key_float(lo[b] + (hi[b] - lo[b]) / 2u);
        }
        float_chain(cx, v);
        bits = quantize_bits(cx, v);
        for (b = 0; b < cx->nc; ++b) {
            if (lo[b] < hi[b]) {
                const uint32_t mid = lo[b] + (hi[b] - lo[b]) / 2u;
                if ((bits >> b) & 1u) {
                    lo[b] = mid + 1u;
                } else {
                    hi[b] = mid;
                }
                busy |= lo[b] < hi[b];
            }
        }
    }
    for (b = 0; b < cx->nc; ++b) {
        cx->thr[b] = lo[b] == float_key(cx->abound[b]) + 1u ? FLT_MAX * 2.0f : key_float(lo[b]);
    }
}

/* Cores without an FPU (no weight table; every float operation a library call): the bits
 * of a window straight from the thresholds, channel by channel, a channel's positions
 * stopping at the first accumulator >= thr (its bit is 0 then, as the reference's AND or
 * max would make it). +-scale weights: acc = neg ? acc - x : acc + x (sign masks, direction
 * folded in); float weights read where they lie: prod = x * (dir * w); acc = acc + prod,
 * the negation a sign flip. Both in tap order from +0, as the references. */
BNN_FUSED_NOINLINE static uint32_t small_bits(const ctx_t *cx, int32_t n, int32_t y0,
                                              int32_t x0, int32_t fy0, int32_t fy1, int32_t fx0,
                                              int32_t fx1)
{
    const float *f0 = (const float *)cx->p->filter + (size_t)cx->c0 * (size_t)cx->k;
    const int32_t k = cx->k;
    uint32_t bits = cx->nc == 32 ? 0xFFFFFFFFu : (1u << cx->nc) - 1u;
    float xs[4 * BNN_FUSED_OPT_MAX_K]; /* up to four positions' inputs at a time */
    int32_t fy = fy0, fx = fx0;
    while (fy < fy1 && bits) {
        int32_t q = 0, b;
        for (; fy < fy1 && q < 4; ++q) { /* gather the next (up to) four positions */
            fconv_gather(cx, n, y0 + fy, x0 + fx, xs + q * k);
            if (++fx == fx1) {
                fx = fx0;
                ++fy;
            }
        }
        for (b = 0; b < cx->nc; ++b) {
            const float thr = cx->thr[b];
            const float *f = f0 + (size_t)b * (size_t)k;
            const int neg = cx->dir[b] < 0;
            int32_t j, t;
            if (!((bits >> b) & 1u)) {
                continue;
            }
            for (j = 0; j < q; ++j) {
                const float *xq = xs + j * k;
                float a = 0.0f;
                if (cx->signs != NULL) {
                    const uint32_t mask = cx->signs[b];
                    for (t = 0; t < k; ++t) {
                        a = (mask >> t) & 1u ? a - xq[t] : a + xq[t];
                    }
                } else {
                    for (t = 0; t < k; ++t) {
                        const float prod = xq[t] * (neg ? -f[t] : f[t]);
                        a = a + prod;
                    }
                }
                if (!(a < thr)) {
                    bits &= ~(1u << b);
                    break;
                }
            }
        }
    }
    return bits;
}

#if BNN_OPT_BSLICE
/* Bit b = the output bit of channel c0 + b (stages, max-pool clamp, quantize) for the
 * count cnt[b] at a position without outside taps to correct (x2 = 2 count). */
static uint32_t count_bits(const ctx_t *cx, const int32_t *cnt)
{
    const bnn_fused_params_t *p = cx->p;
    int32_t x2[BLK] = {0};
    float v[BLK];
    int32_t b;
    for (b = 0; b < cx->nc; ++b) {
        x2[b] = 2 * cnt[b];
    }
    bconv_finish(cx, x2, v);
    apply_stages(cx, v);
    if (p->has_pool) {
        for (b = 0; b < cx->nc; ++b) {
            v[b] = bnn_clamp_f(v[b], p->pool_act_min, p->pool_act_max);
        }
    }
    return quantize_bits(cx, v);
}

/*
 * LceBconv2d source on a monotone chain (cx->mono), bit-sliced: a position's output bit is
 * a monotone step function of its count (the chain is monotone in x2 = 2 count, the
 * quantize bit is 1 for small values), and a window's bit is the AND of its positions'
 * bits (the bit of the largest value, as mono_bits uses). So per channel one threshold T:
 * bit = count < T (the chain never decreases, dir > 0) or count >= T (dir < 0), found by
 * bisection over the exact chain (count_bits), 32 channels at a time. Then every position
 * costs one bnn_bslice_ge.
 */
static void bslice_setup_block(ctx_t *cx)
{
    const bnn_bconv2d_params_t *bp = cx->p->bconv;
    const int32_t bits = bp->win.kernel_h * bp->win.kernel_w * bp->channels_in;
    int32_t lo[BLK], hi[BLK], mid[BLK];
    int32_t b, open;
    uint32_t inv = 0u;
    for (b = 0; b < cx->nc; ++b) {
        lo[b] = 0;
        hi[b] = bits + 1; /* the first count whose bit is the far side's, or bits + 1 */
        inv |= (cx->dir[b] > 0 ? 1u : 0u) << b;
    }
    do {
        uint32_t got;
        open = 0;
        for (b = 0; b < cx->nc; ++b) {
            mid[b] = lo[b] + (hi[b] - lo[b]) / 2;
        }
        got = count_bits(cx, mid) ^ inv; /* bit b: the far side (0 for dir > 0) reached */
        for (b = 0; b < cx->nc; ++b) {
            if (lo[b] < hi[b]) {
                if ((got >> b) & 1u) {
                    hi[b] = mid[b];
                } else {
                    lo[b] = mid[b] + 1;
                }
                open |= lo[b] < hi[b];
            }
        }
    } while (open);
    /* dir > 0: bit = count < T = NOT (count >= T); dir < 0: bit = count >= T */
    bnn_bslice_setup(cx->bs, (const uint32_t *)cx->p->filter + (size_t)cx->c0 * (size_t)cx->kw,
                     cx->kw, cx->nc, lo);
    cx->bs_inv = inv;
}

/* As mono_bits, bit-sliced: 0 if a position of the window has outside taps to correct
 * (zero padding), which the caller then counts apart. */
static int bslice_bits(const ctx_t *cx, int32_t n, int32_t y0, int32_t x0, int32_t fy0,
                       int32_t fy1, int32_t fx0, int32_t fx1, uint32_t *bits)
{
    uint32_t patch[BNN_BSLICE_MAX_KW + 1];
    uint8_t outside[BNN_BSLICE_MAX_KW];
    uint32_t all = 0xFFFFFFFFu;
    int32_t fy, fx;
    for (fy = fy0; fy < fy1; ++fy) {
        for (fx = fx0; fx < fx1; ++fx) {
            int32_t n1;
            if (bconv_patch(cx, n, y0 + fy, x0 + fx, patch, outside, cx->bs_pop, &n1) != 0) {
                return 0;
            }
            all &= (cx->bs_pop != NULL ? bnn_bslice_ge_n1(cx->bs, patch, n1)
                                       : bnn_bslice_ge(cx->bs, patch))
                   ^ cx->bs_inv;
        }
    }
    *bits = all & (cx->nc == 32 ? 0xFFFFFFFFu : (1u << cx->nc) - 1u);
    return 1;
}
#endif

/* The output bits of channels c0 .. c0 + nc - 1 for a pooling window (the max-pool's, or the
 * binary pool's when there is no max-pool) of positions [fy0, fy1) x [fx0, fx1) (not empty)
 * from map pixel (y0, x0), by the accumulators (cx->mono; see "Monotone chains"). */
BNN_FUSED_NOINLINE static uint32_t mono_bits(const ctx_t *cx, int32_t n, int32_t y0,
                                             int32_t x0, int32_t fy0, int32_t fy1, int32_t fx0,
                                             int32_t fx1)
{
    const bnn_fused_params_t *p = cx->p;
    union { /* the counts of one position, then the values share one array */
        int32_t x2[BLK];
        float v[BLK];
    } u;
    float *const v = u.v;
    int32_t fy, fx, b;
    if (p->src != BNN_FUSED_BCONV && cx->sg == NULL) {
        return small_bits(cx, n, y0, x0, fy0, fy1, fx0, fx1);
    }
    if (p->src != BNN_FUSED_BCONV) {
        uint32_t bits = 0u;
#if BNN_FUSED_POOL4_VFP
        {
            float x[16];
            if (cx->thr != NULL && pool4_patch(cx, n, y0, x0, fy0, fy1, fx0, fx1, x)) {
                return pool4_bits(x, cx->sg, cx->thr, cx->nc);
            }
        }
#endif
        float_best(cx, n, y0, x0, fy0, fy1, fx0, fx1, v);
        for (b = 0; b < cx->nc; ++b) {
            bits |= (v[b] < cx->thr[b] ? 1u : 0u) << b;
        }
        return bits;
    } else {
        int32_t best[BLK] = {0};
#if BNN_OPT_BSLICE
        uint32_t bits;
        if (cx->bs != NULL && bslice_bits(cx, n, y0, x0, fy0, fy1, fx0, fx1, &bits)) {
            return bits;
        }
#endif
        for (fy = fy0; fy < fy1; ++fy) {
            for (fx = fx0; fx < fx1; ++fx) {
                const int first = fy == fy0 && fx == fx0;
                bconv_x2(cx, n, y0 + fy, x0 + fx, u.x2);
                for (b = 0; b < cx->nc; ++b) {
                    if (first || (cx->dir[b] > 0 ? u.x2[b] > best[b] : u.x2[b] < best[b])) {
                        best[b] = u.x2[b];
                    }
                }
            }
        }
        bconv_finish(cx, best, v);
        apply_stages(cx, v);
        if (p->has_pool) {
            for (b = 0; b < cx->nc; ++b) {
                v[b] = bnn_clamp_f(v[b], p->pool_act_min, p->pool_act_max);
            }
        }
    }
    return quantize_bits(cx, v);
}

/* Bits of the pooled, quantized map at (n, y, x) value by value (the reference's way): the
 * per-position path, out of line so that its arrays are not on the stack under mono_bits. */
BNN_FUSED_NOINLINE static uint32_t pooled_bits_by_value(const ctx_t *cx, int32_t n, int32_t y,
                                                        int32_t x)
{
    const bnn_fused_params_t *p = cx->p;
    float v[BLK];
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
    return quantize_bits(cx, v);
}

/* Bits (bit b = channel c0 + b) of the pooled, quantized map at (n, y, x). */
static uint32_t pooled_bits(const ctx_t *cx, int32_t n, int32_t y, int32_t x)
{
    const bnn_fused_params_t *p = cx->p;
    if (p->has_pool && cx->mono) {
        const bnn_window_t *w = &p->pool;
        const int32_t y0 = y * w->stride_h - w->pad_top;
        const int32_t x0 = x * w->stride_w - w->pad_left;
        const int32_t fy0 = bnn_max_i32(0, -y0);
        const int32_t fy1 = bnn_min_i32(w->kernel_h, w->in_h - y0);
        const int32_t fx0 = bnn_max_i32(0, -x0);
        const int32_t fx1 = bnn_min_i32(w->kernel_w, w->in_w - x0);
        if (fy0 < fy1 && fx0 < fx1) {
            return mono_bits(cx, n, y0, x0, fy0, fy1, fx0, fx1);
        }
    }
    return pooled_bits_by_value(cx, n, y, x);
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
        const bnn_conv2d_f32_params_t *cp = p->conv_f32;
        const int geometry = cp != NULL && cp->groups == 1 && cp->in_c >= 1
                             && cp->win.kernel_h >= 1 && cp->win.kernel_w >= 1
                             && (int64_t)cp->win.kernel_h * cp->win.kernel_w * cp->in_c
                                    <= BNN_FUSED_OPT_MAX_K;
        if (BNN_FUSED_OPT_SMALL_STACK) {
            /* Without an FPU every float operation is a library call: only the accumulator
             * pooling (one compare per window) beats the reference there, whose binary-pool
             * windows stop at the first 0 bit; measured on the M0 (microbit) for the first
             * layer of bnn_cnn_small: per-position blocks 46.2 M vs the reference's 33.7 M
             * instructions. */
            return geometry && (p->has_pool || p->has_bpool);
        }
        return geometry;
    }
    return 0;
}

/* Every channel block of the map: the packed output bits, ORed into out (zeroed). */
static void walk_blocks(ctx_t *cx, uint32_t *out, int32_t fin_h, int32_t fin_w, int32_t words)
{
    const bnn_fused_params_t *p = cx->p;
    int32_t n, y, x;
    for (cx->c0 = 0; cx->c0 < p->channels; cx->c0 += BLK) {
        cx->nc = bnn_min_i32(BLK, p->channels - cx->c0);
        if (p->src == BNN_FUSED_CONV_BINW_F32) {
            binw_signs(cx);
        }
        setup_mono(cx);
        if (cx->mono && p->src != BNN_FUSED_BCONV) {
            float_thresholds(cx);
        }
#if BNN_OPT_BSLICE
        if (cx->bs != NULL && cx->mono) {
            bslice_setup_block(cx);
        }
#endif
        for (n = 0; n < p->batch; ++n) {
            for (y = 0; y < fin_h; ++y) {
                for (x = 0; x < fin_w; ++x) {
                    const size_t e0 = (((size_t)n * (size_t)fin_h + (size_t)y) * (size_t)fin_w
                                       + (size_t)x) * (size_t)p->channels + (size_t)cx->c0;
                    const uint32_t all = cx->nc == 32 ? 0xFFFFFFFFu : (1u << cx->nc) - 1u;
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
                        if (cx->mono && !p->has_pool && fy0 < fy1 && fx0 < fx1) {
                            /* The AND of the window's bits is the bit of its largest
                             * value (see "Monotone chains"). */
                            bits = mono_bits(cx, n, y0, x0, fy0, fy1, fx0, fx1);
                        }
                        for (fy = fy0; fy < fy1 && bits && !(cx->mono && !p->has_pool); ++fy) {
                            for (fx = fx0; fx < fx1 && bits; ++fx) {
                                bits &= pooled_bits(cx, n, y0 + fy, x0 + fx);
                            }
                        }
                    } else {
                        bits = pooled_bits(cx, n, y, x);
                    }
                    if (p->pack_channels == p->channels) {
                        /* One row per pixel; the block is word c0 / 32 of it. */
                        out[(e0 / (size_t)p->channels) * (size_t)words
                            + (size_t)(cx->c0 / 32)] |= bits;
                    } else if (p->pack_channels % 32 == 0 && p->channels % 32 == 0) {
                        out[e0 / 32u] |= bits; /* rows of whole words, aligned block */
                    } else {
                        int32_t b;
                        for (b = 0; b < cx->nc && bits; ++b, bits >>= 1) {
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
}

/* The float sources' tables live in the frame of one of these (never inlined, so only the
 * one taken is on the stack): 1,408 bytes for a 3x3 kernel on one channel, 4.3 KB for the
 * largest float source; an LceBconv2d source needs none (it runs on the 2 KB stacks). */
BNN_FUSED_NOINLINE static void walk_k9(ctx_t *cx, uint32_t *out, int32_t fin_h, int32_t fin_w,
                                       int32_t words)
{
    float sg[BLK * 9], abound[BLK], thr[BLK];
    cx->sg = sg;
    cx->abound = abound;
    cx->thr = thr;
    walk_blocks(cx, out, fin_h, fin_w, words);
}

/* Cores without an FPU: only the accumulator pooling is taken (see _supports), so every
 * block must qualify, which setup_mono decides before anything is written; 0 if one does
 * not (the caller then runs the reference). +-scale weights become sign masks; float
 * weights are read from the filter itself. */
BNN_FUSED_NOINLINE static int walk_small(ctx_t *cx, uint32_t *out, int32_t fin_h,
                                         int32_t fin_w, int32_t words)
{
    uint32_t signs[BLK];
    float abound[BLK], thr[BLK];
    cx->signs = cx->p->src == BNN_FUSED_CONV_BINW_F32 ? signs : NULL;
    cx->abound = abound;
    cx->thr = thr;
    for (cx->c0 = 0; cx->c0 < cx->p->channels; cx->c0 += BLK) {
        cx->nc = bnn_min_i32(BLK, cx->p->channels - cx->c0);
        if (cx->signs != NULL) {
            binw_signs(cx);
        }
        setup_mono(cx);
        if (!cx->mono) {
            return 0;
        }
    }
    walk_blocks(cx, out, fin_h, fin_w, words);
    return 1;
}

#if BNN_OPT_BSLICE
/* LceBconv2d source with filters of at most BNN_BSLICE_MAX_KW words: the bit-sliced
 * filters (2.6 KB) live in this frame. */
BNN_FUSED_NOINLINE static void walk_bconv_bslice(ctx_t *cx, uint32_t *out, int32_t fin_h,
                                                 int32_t fin_w, int32_t words)
{
    const bnn_window_t *w = &cx->p->bconv->win;
    const int32_t in_pixels = w->batch * w->in_h * w->in_w;
    bnn_bslice_t bs;
    uint16_t pop[BNN_BSLICE_POP_PIXELS];
    cx->bs = &bs;
    cx->bs_pop = NULL;
    if (in_pixels <= BNN_BSLICE_POP_PIXELS) {
        bnn_bslice_pixel_counts((const uint32_t *)cx->in, in_pixels, cx->words_in, pop);
        cx->bs_pop = pop;
    }
    walk_blocks(cx, out, fin_h, fin_w, words);
    cx->bs = NULL;
    cx->bs_pop = NULL;
}
#endif

BNN_FUSED_NOINLINE static void walk_kmax(ctx_t *cx, uint32_t *out, int32_t fin_h,
                                         int32_t fin_w, int32_t words)
{
    float sg[BLK * BNN_FUSED_OPT_MAX_K], abound[BLK], thr[BLK];
    cx->sg = sg;
    cx->abound = abound;
    cx->thr = thr;
    walk_blocks(cx, out, fin_h, fin_w, words);
}

bnn_status_t bnn_conv2d_pool_quantize_opt(const bnn_fused_params_t *p, const void *in,
                                          uint32_t *out)
{
    ctx_t cx;
    int32_t fin_h, fin_w, words;
    size_t r, rows;
    bnn_status_t st = bnn_fused_check(p, in, out, &fin_h, &fin_w);
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
    cx.in_bound = -1.0f;
    if ((p->has_pool || p->has_bpool) && p->src != BNN_FUSED_BCONV) {
        const bnn_window_t *w = &p->conv_f32->win;
        cx.in_bound = input_bound((const float *)in, (size_t)p->batch * (size_t)w->in_h
                                                        * (size_t)w->in_w
                                                        * (size_t)p->conv_f32->in_c);
    }
    cx.sg = cx.abound = cx.thr = NULL;
    cx.signs = NULL;
#if BNN_OPT_BSLICE
    cx.bs = NULL;
    cx.bs_inv = 0u;
    cx.bs_pop = NULL;
    if (p->src == BNN_FUSED_BCONV && cx.kw <= BNN_BSLICE_MAX_KW && (p->has_pool || p->has_bpool)) {
        walk_bconv_bslice(&cx, out, fin_h, fin_w, words);
        return BNN_OK;
    }
#endif
    if (p->src == BNN_FUSED_BCONV) {
        walk_blocks(&cx, out, fin_h, fin_w, words);
    } else if (BNN_FUSED_OPT_SMALL_STACK) {
        if (!walk_small(&cx, out, fin_h, fin_w, words)) {
            return bnn_conv2d_pool_quantize_ref(p, in, out);
        }
    } else if (cx.k <= 9) {
        walk_k9(&cx, out, fin_h, fin_w, words);
    } else {
        walk_kmax(&cx, out, fin_h, fin_w, words);
    }
    return BNN_OK;
}
