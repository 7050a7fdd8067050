/**
 * @file main.c
 * @brief Optimized kernels vs their references: random bit-exactness tests and per-kernel
 *        instruction counts. The same source builds for the host and every Cortex-M target
 *        (firmware/Makefile APP_DIR=tests/firmware_opt/app, WITH_RUNTIME=1, no model).
 *
 * Tests: for N random parameter sets per op (shapes, channels 1/31/32/33/65/100/..., 1x1
 * inputs, strides, dilations, groups, SAME / VALID, one and zero padding, float / int8 /
 * packed outputs, int8 rounding ties) the optimized kernel and the reference run on the
 * same inputs into buffers pre-filled with the same pattern; the whole buffers must be equal
 * byte for byte (floats compared by bits, so nothing beyond the output is written either).
 * A variant that declines p (bnn_<op>_opt_supports(p) == 0) is checked through the
 * dispatcher instead, which must then equal the reference. Output:
 *
 *   BNN TESTS: 412/412 PASS        (or "... FAIL", after one line per failing case)
 *
 * Bench (BNN_OPT_BENCH=1): each layer of bnn_cnn_small (28x28x1, filters 32/64/128, dense
 * 128) that fits in RAM, timed with bnn_port_cycles() (instructions under QEMU -icount):
 *
 *   BNN BENCH {"name":"conv2","ref":123,"opt":45,"macs":3612672}
 *
 * Build-time knobs: BNN_OPT_TEST_SEED, BNN_OPT_TEST_CASES (per op), BNN_OPT_BUF_WORDS.
 */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "bnn/bnn_fused.h"
#include "bnn/bnn_kernels.h"
#include "bnn/bnn_port.h"
#include "../../../firmware/runtime/kernels/opt/bnn_conv2d_pool_quantize_opt.h"
#include "../../../firmware/runtime/kernels/opt/bnn_conv2d_s8_opt.h"
#include "../../../firmware/runtime/kernels/opt/bnn_fully_connected_s8_opt.h"

#ifndef BNN_OPT_TEST_SEED
#define BNN_OPT_TEST_SEED 12345u
#endif
#ifndef BNN_OPT_TEST_CASES
#define BNN_OPT_TEST_CASES 120
#endif
#ifndef BNN_OPT_BENCH
#define BNN_OPT_BENCH 1
#endif
/* Buffer sizes in words (the M0 board has 16 KB of RAM, netduinoplus2 128 KB). The two
 * test outputs are the halves of g_out; a bench run uses all of it for one output. */
#ifndef BNN_OPT_BUF_WORDS
#if defined(__ARM_ARCH_6M__)
#define BNN_OPT_BUF_WORDS 640
#else
#define BNN_OPT_BUF_WORDS 6400
#endif
#endif
#define BNN_OPT_IN_WORDS (BNN_OPT_BUF_WORDS / 2)

static uint32_t g_in[BNN_OPT_IN_WORDS];
static uint32_t g_filter[BNN_OPT_BUF_WORDS];
static uint32_t g_out[2 * BNN_OPT_BUF_WORDS];
static uint32_t *const g_out_ref = g_out;
static uint32_t *const g_out_opt = g_out + BNN_OPT_BUF_WORDS;
#define BNN_OPT_MAX_COUT 256
static float g_mul[BNN_OPT_MAX_COUT];
static float g_bias[BNN_OPT_MAX_COUT];
static int32_t g_threshold[BNN_OPT_MAX_COUT];
static float g_stage_c[BNN_OPT_MAX_COUT];

/* ---- output ---- */

static void put(const char *s)
{
    bnn_port_write(s);
}

static void put_i(long v)
{
    char buf[24];
    char *p = buf + sizeof buf - 1;
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    *p = '\0';
    do {
        *--p = (char)('0' + (int)(u % 10u));
        u /= 10u;
    } while (u != 0u);
    if (v < 0) {
        *--p = '-';
    }
    put(p);
}

#if BNN_OPT_BENCH
static void put_u64(uint64_t v)
{
    char buf[24];
    char *p = buf + sizeof buf - 1;
    *p = '\0';
    do {
        *--p = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    put(p);
}
#endif

/* ---- random numbers (xorshift32) ---- */

static uint32_t g_rng = BNN_OPT_TEST_SEED;

static uint32_t rnd(void)
{
    uint32_t x = g_rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    g_rng = x;
    return x;
}

/* Uniform in [lo, hi]. */
static int32_t rnd_in(int32_t lo, int32_t hi)
{
    return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

static int32_t pick(const int32_t *v, int32_t n)
{
    return v[rnd() % (uint32_t)n];
}

/* Random float in about [-scale, scale] with 1/4096 resolution. */
static float rnd_f(float scale)
{
    return scale * ((float)rnd_in(-4096, 4096) / 4096.0f);
}

/* Packed rows: random words, padding bits of each row's last word 0. */
static void fill_packed(uint32_t *w, int32_t rows, int32_t channels)
{
    const int32_t words = BNN_WORDS(channels);
    int32_t r, j;
    for (r = 0; r < rows; ++r) {
        for (j = 0; j < words; ++j) {
            w[r * words + j] = rnd();
        }
        if (channels % 32 != 0) {
            w[r * words + words - 1] &= (1u << (channels % 32)) - 1u;
        }
    }
}

static void fill_pattern(void)
{
    int32_t i;
    for (i = 0; i < BNN_OPT_BUF_WORDS; ++i) {
        g_out_ref[i] = g_out_opt[i] = 0xA5A5A5A5u ^ (uint32_t)i;
    }
}

static int same_outputs(void)
{
    return memcmp(g_out_ref, g_out_opt, BNN_OPT_BUF_WORDS * sizeof *g_out) == 0;
}

/* ---- geometry (TFLite rules, spec §6.2) ---- */

/* Fills out_h/out_w/pad_* from the rest; returns 0 when VALID does not fit. */
static int finish_window(bnn_window_t *w, int same)
{
    const int32_t ekh = (w->kernel_h - 1) * w->dilation_h + 1;
    const int32_t ekw = (w->kernel_w - 1) * w->dilation_w + 1;
    int32_t ph, pw;
    if (same) {
        w->out_h = (w->in_h + w->stride_h - 1) / w->stride_h;
        w->out_w = (w->in_w + w->stride_w - 1) / w->stride_w;
    } else {
        if (ekh > w->in_h || ekw > w->in_w) {
            return 0;
        }
        w->out_h = (w->in_h - ekh) / w->stride_h + 1;
        w->out_w = (w->in_w - ekw) / w->stride_w + 1;
    }
    ph = (w->out_h - 1) * w->stride_h + ekh - w->in_h;
    pw = (w->out_w - 1) * w->stride_w + ekw - w->in_w;
    w->pad_top = ph > 0 ? ph / 2 : 0;
    w->pad_left = pw > 0 ? pw / 2 : 0;
    return 1;
}

static int g_fail_lines;

static void report_failure(const char *op, int index, const char *why)
{
    if (g_fail_lines < 12) {
        put("FAIL ");
        put(op);
        put(" case ");
        put_i(index);
        put(": ");
        put(why);
        put("\n");
    }
    ++g_fail_lines;
}

/* ---- bconv2d ---- */

static const int32_t k_channels[] = {1, 2, 31, 32, 33, 64, 65, 100, 5, 96};
static const int32_t k_cout[] = {1, 3, 31, 32, 33, 65, 8, 64};
/* Filters of at most 18 words with a 3x3 kernel (the bit-sliced path's limit). */
static const int32_t k_channels_bs[] = {1, 2, 5, 31, 32, 33, 63, 64};

/* Input density of the next draw: 0 random, 1 sparse (AND of three words), 2 dense (OR):
 * the bit-sliced kernels sum over the set or over the clear bits, whichever are fewer. */
static int g_density;

/* Random bconv2d params into *p; returns 0 when the draw does not fit the buffers. One draw
 * in three is shaped for the bit-sliced path (packed output, one group, 16+ pixels). */
static int random_bconv(bnn_bconv2d_params_t *p, int32_t *k_out)
{
    bnn_window_t *w = &p->win;
    int32_t k, cg, words_in, words_g, in_words, f_words, out_bytes, co;
    int same;
    const int bslice = rnd_in(0, 2) == 0;
    memset(p, 0, sizeof *p);
    g_density = bslice ? rnd_in(0, 2) : 0;
    w->batch = rnd_in(0, 9) == 0 ? 2 : 1;
    if (bslice) {
        w->in_h = rnd_in(5, 11);
        w->in_w = rnd_in(5, 11);
        w->kernel_h = rnd_in(1, 3);
        w->kernel_w = rnd_in(0, 3) == 0 ? rnd_in(1, 3) : w->kernel_h;
    } else if (rnd_in(0, 5) == 0) { /* a dense layer: 1x1 on a 1x1 input */
        w->in_h = w->in_w = 1;
        w->kernel_h = w->kernel_w = 1;
    } else {
        w->in_h = rnd_in(1, 7);
        w->in_w = rnd_in(1, 7);
        w->kernel_h = rnd_in(1, 3);
        w->kernel_w = rnd_in(0, 3) == 0 ? rnd_in(1, 3) : w->kernel_h;
    }
    w->stride_h = rnd_in(1, 2);
    w->stride_w = rnd_in(0, 3) == 0 ? rnd_in(1, 2) : w->stride_h;
    w->dilation_h = rnd_in(0, 4) == 0 ? 2 : 1;
    w->dilation_w = rnd_in(0, 4) == 0 ? 2 : 1;
    same = (int)(rnd() & 1u);
    if (!finish_window(w, same)) {
        return 0;
    }
    p->groups = 1;
    p->channels_in = bslice ? pick(k_channels_bs, (int32_t)(sizeof k_channels_bs
                                                            / sizeof *k_channels_bs))
                            : pick(k_channels, (int32_t)(sizeof k_channels / sizeof *k_channels));
    p->channels_out = pick(k_cout, (int32_t)(sizeof k_cout / sizeof *k_cout));
    if (!bslice && rnd_in(0, 7) == 0) {
        p->groups = rnd_in(2, 3);
        p->channels_in = 32 * p->groups * rnd_in(1, 2);
        p->channels_out = p->groups * rnd_in(1, 9);
    }
    cg = p->channels_in / p->groups;
    k = w->kernel_h * w->kernel_w * cg;
    *k_out = k;
    words_in = BNN_WORDS(p->channels_in);
    words_g = BNN_WORDS(cg);
    in_words = w->batch * w->in_h * w->in_w * words_in;
    f_words = p->channels_out * w->kernel_h * w->kernel_w * words_g;
    p->out_type = bslice ? BNN_OUT_PACKED : (bnn_out_type_t)rnd_in(0, 2);
    /* Padding: one (also VALID), zero integer path, zero float path (opt declines; float
     * output only, so drawn before the output size is checked). */
    {
        const int32_t r = rnd_in(0, 9);
        p->pad_mode = r < 6 ? BNN_BPAD_ONE : (r < 9 || bslice ? BNN_BPAD_ZERO_INT
                                                             : BNN_BPAD_ZERO_FLOAT);
    }
    if (p->pad_mode == BNN_BPAD_ZERO_FLOAT) {
        p->out_type = BNN_OUT_F32; /* the only legal combination */
    }
    out_bytes = w->batch * w->out_h * w->out_w
                * (p->out_type == BNN_OUT_PACKED ? 4 * BNN_WORDS(p->channels_out)
                                                 : (p->out_type == BNN_OUT_F32 ? 4 : 1)
                                                       * p->channels_out);
    if (in_words > BNN_OPT_IN_WORDS || f_words > BNN_OPT_BUF_WORDS
        || out_bytes > 4 * BNN_OPT_BUF_WORDS || p->channels_out > BNN_OPT_MAX_COUT) {
        return 0;
    }
    if (p->out_type == BNN_OUT_PACKED) {
        for (co = 0; co < p->channels_out; ++co) {
            const int32_t r = rnd_in(0, 19);
            g_threshold[co] = r == 0 ? INT32_MIN : (r == 1 ? INT32_MAX : rnd_in(-1, k + 1));
        }
        p->threshold = g_threshold;
    } else {
        const int32_t act = p->pad_mode == BNN_BPAD_ZERO_FLOAT ? 0 : rnd_in(0, 3);
        /* (nmin, nmax) per activation, mirrored: cmin = K - nmax, cmax = K - nmin (§6.5). */
        int32_t nmin = -k, nmax = k;
        if (act == 1) {
            nmin = 0;
        } else if (act == 2) {
            nmin = 0;
            nmax = k < 6 ? k : 6;
        } else if (act == 3) {
            nmin = k < 1 ? -k : -1;
            nmax = k < 1 ? k : 1;
        }
        p->clamp_min = k - nmax;
        p->clamp_max = k - nmin;
        for (co = 0; co < p->channels_out; ++co) {
            const int32_t r = rnd_in(0, 3);
            /* Ties for the int8 rounding: multiples of 0.25 plus x.5 biases. */
            g_mul[co] = r == 0 ? 0.25f * (float)rnd_in(-4, 4) : rnd_f(2.0f);
            g_bias[co] = r == 0 ? 0.5f + (float)rnd_in(-60, 60) : rnd_f(80.0f);
        }
        p->mul = g_mul;
        p->bias = g_bias;
    }
    fill_packed(g_in, w->batch * w->in_h * w->in_w, p->channels_in);
    if (g_density != 0) {
        const int32_t rows = w->batch * w->in_h * w->in_w, words = BNN_WORDS(p->channels_in);
        int32_t r, j;
        for (r = 0; r < rows; ++r) {
            for (j = 0; j < words; ++j) {
                uint32_t *v = &g_in[r * words + j];
                *v = g_density == 1 ? *v & rnd() & rnd() : *v | rnd() | rnd();
            }
            if (p->channels_in % 32 != 0) { /* padding bits stay 0 */
                g_in[r * words + words - 1] &= (1u << (p->channels_in % 32)) - 1u;
            }
        }
    }
    if (p->groups == 1) {
        fill_packed(g_filter, p->channels_out * w->kernel_h * w->kernel_w, cg);
    } else {
        fill_packed(g_filter, p->channels_out * w->kernel_h * w->kernel_w * p->groups, 32);
    }
    return 1;
}

static void test_bconv(int *run, int *pass)
{
    int i, done = 0;
    for (i = 0; done < BNN_OPT_TEST_CASES && i < 50 * BNN_OPT_TEST_CASES; ++i) {
        bnn_bconv2d_params_t p;
        int32_t k;
        bnn_status_t s_ref, s_opt;
        int declined;
        if (!random_bconv(&p, &k)) {
            continue;
        }
        ++done;
        ++*run;
        declined = !bnn_bconv2d_opt_supports(&p);
        fill_pattern();
        s_ref = bnn_bconv2d_ref(&p, g_in, g_filter, g_out_ref, NULL);
        s_opt = declined ? bnn_bconv2d(&p, g_in, g_filter, g_out_opt, NULL)
                         : bnn_bconv2d_opt(&p, g_in, g_filter, g_out_opt, NULL);
        if (declined != (p.pad_mode == BNN_BPAD_ZERO_FLOAT)) {
            report_failure("bconv2d", done, "supports() disagrees with its documentation");
        } else if (s_ref != BNN_OK || s_opt != s_ref) {
            report_failure("bconv2d", done, "status differs or is not ok");
        } else if (!same_outputs()) {
            report_failure("bconv2d", done, "outputs differ");
            put("  in ");
            put_i(p.win.in_h);
            put("x");
            put_i(p.win.in_w);
            put("x");
            put_i(p.channels_in);
            put(" k ");
            put_i(p.win.kernel_h);
            put("x");
            put_i(p.win.kernel_w);
            put(" s ");
            put_i(p.win.stride_h);
            put(",");
            put_i(p.win.stride_w);
            put(" d ");
            put_i(p.win.dilation_h);
            put(",");
            put_i(p.win.dilation_w);
            put(" cout ");
            put_i(p.channels_out);
            put(" groups ");
            put_i(p.groups);
            put(" pad ");
            put_i(p.pad_mode);
            put(" out ");
            put_i(p.out_type);
            put("\n");
        } else {
            ++*pass;
        }
    }
}

/* ---- bmaxpool2d ---- */

static void test_bmaxpool(int *run, int *pass)
{
    int i, done = 0;
    for (i = 0; done < BNN_OPT_TEST_CASES && i < 50 * BNN_OPT_TEST_CASES; ++i) {
        bnn_bmaxpool2d_params_t p;
        bnn_window_t *w = &p.win;
        int32_t words;
        memset(&p, 0, sizeof p);
        w->batch = rnd_in(1, 2);
        w->in_h = rnd_in(1, 9);
        w->in_w = rnd_in(1, 9);
        w->kernel_h = rnd_in(1, 3);
        w->kernel_w = rnd_in(0, 2) == 0 ? rnd_in(1, 3) : w->kernel_h;
        w->stride_h = rnd_in(1, 3);
        w->stride_w = rnd_in(0, 2) == 0 ? rnd_in(1, 3) : w->stride_h;
        w->dilation_h = w->dilation_w = 1;
        if (!finish_window(w, (int)(rnd() & 1u))) {
            continue;
        }
        p.channels = pick(k_channels, (int32_t)(sizeof k_channels / sizeof *k_channels));
        words = BNN_WORDS(p.channels);
        if (w->batch * w->in_h * w->in_w * words > BNN_OPT_IN_WORDS
            || w->batch * w->out_h * w->out_w * words > BNN_OPT_BUF_WORDS) {
            continue;
        }
        ++done;
        ++*run;
        fill_packed(g_in, w->batch * w->in_h * w->in_w, p.channels);
        /* Dense ones make ANDs survive: bias some inputs towards all-ones. */
        if (rnd() & 1u) {
            int32_t j;
            for (j = 0; j < w->batch * w->in_h * w->in_w * words; ++j) {
                g_in[j] |= rnd() | rnd();
            }
            for (j = 0; j < w->batch * w->in_h * w->in_w; ++j) {
                if (p.channels % 32 != 0) {
                    g_in[j * words + words - 1] &= (1u << (p.channels % 32)) - 1u;
                }
            }
        }
        fill_pattern();
        if (!bnn_bmaxpool2d_opt_supports(&p)) {
            report_failure("bmaxpool2d", done, "declined a valid p");
        } else if (bnn_bmaxpool2d_ref(&p, g_in, g_out_ref) != BNN_OK
                   || bnn_bmaxpool2d_opt(&p, g_in, g_out_opt) != BNN_OK) {
            report_failure("bmaxpool2d", done, "status not ok");
        } else if (!same_outputs()) {
            report_failure("bmaxpool2d", done, "outputs differ");
        } else {
            ++*pass;
        }
    }
}

/* ---- quantize ---- */

static float special_float(void)
{
    static const uint32_t bits[] = {
        0x00000000u, 0x80000000u, 0x00000001u, 0x80000001u, 0x807FFFFFu, 0x80800000u,
        0x00800000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00000u, 0xFF800001u,
        0x3F800000u, 0xBF800000u, 0xFF7FFFFFu, 0x7F7FFFFFu};
    float f;
    memcpy(&f, &bits[rnd() % (sizeof bits / sizeof *bits)], sizeof f);
    return f;
}

static void test_quantize(int *run, int *pass)
{
    int i;
    for (i = 0; i < BNN_OPT_TEST_CASES; ++i) {
        bnn_quantize_params_t p;
        int32_t j, n;
        const int is_s8 = (int)(rnd() & 1u);
        memset(&p, 0, sizeof p);
        p.channels = pick(k_channels, (int32_t)(sizeof k_channels / sizeof *k_channels));
        p.rows = rnd_in(1, 5);
        n = p.rows * p.channels;
        if ((is_s8 ? (n + 3) / 4 : n) > BNN_OPT_IN_WORDS) {
            p.rows = 1;
            n = p.channels;
        }
        ++*run;
        fill_pattern();
        if (is_s8) {
            int8_t *x = (int8_t *)g_in;
            p.zero_point = rnd_in(0, 3) == 0 ? rnd_in(-128, 127) : rnd_in(-3, 3);
            for (j = 0; j < n; ++j) {
                x[j] = (int8_t)rnd_in(-128, 127);
            }
            if (!bnn_quantize_s8_opt_supports(&p)
                || bnn_quantize_s8_ref(&p, x, g_out_ref) != BNN_OK
                || bnn_quantize_s8_opt(&p, x, g_out_opt) != BNN_OK || !same_outputs()) {
                report_failure("quantize_s8", i, "outputs or status differ");
                continue;
            }
        } else {
            float *x = (float *)g_in;
            for (j = 0; j < n; ++j) {
                x[j] = rnd_in(0, 3) == 0 ? special_float() : rnd_f(3.0f);
            }
            if (!bnn_quantize_f32_opt_supports(&p)
                || bnn_quantize_f32_ref(&p, x, g_out_ref) != BNN_OK
                || bnn_quantize_f32_opt(&p, x, g_out_opt) != BNN_OK || !same_outputs()) {
                report_failure("quantize_f32", i, "outputs or status differ");
                continue;
            }
        }
        ++*pass;
    }
}

/* ---- conv2d_pool_quantize (fused) ---- */

/* A random pooling window on an h x w map (2x2/2, 3x3/2 or 2x2/1, SAME or VALID). */
static int random_pool(bnn_window_t *w, int32_t batch, int32_t h, int32_t ww)
{
    const int32_t r = rnd_in(0, 2);
    memset(w, 0, sizeof *w);
    w->batch = batch;
    w->in_h = h;
    w->in_w = ww;
    w->kernel_h = w->kernel_w = r == 1 ? 3 : 2;
    w->stride_h = w->stride_w = r == 2 ? 1 : 2;
    w->dilation_h = w->dilation_w = 1;
    return finish_window(w, (int)(rnd() & 1u));
}

/* Largest KH * KW * C_in of a float source the optimized variant takes (documented in
 * bnn_conv2d_pool_quantize_opt.h): 32; on cores without an FPU 9, and only with a max-pool
 * or a binary pool. */
#if (defined(__arm__) && !defined(__ARM_FP)) || BNN_FUSED_OPT_SMALL_STACK
#define BNN_OPT_FUSED_MAX_K 9
#define BNN_OPT_FUSED_NO_FPU 1
#else
#define BNN_OPT_FUSED_MAX_K 32
#define BNN_OPT_FUSED_NO_FPU 0
#endif

static void test_fused(int *run, int *pass)
{
    static const int32_t k_fc[] = {1, 5, 31, 32, 33, 64, 40};
    int i, done = 0;
    for (i = 0; done < BNN_OPT_TEST_CASES && i < 50 * BNN_OPT_TEST_CASES; ++i) {
        bnn_fused_params_t p;
        bnn_bconv2d_params_t bp;
        bnn_conv2d_f32_params_t cp;
        bnn_window_t *w;
        int32_t cin, cout, k, fin_h, fin_w, s, j, total, out_words;
        const int32_t kind = rnd_in(0, 2); /* 0 bconv, 1 float conv, 2 +-scale conv */
        /* A first layer: 3x3 stride 1 on one input channel, pooled 2x2 / 2 (the optimized
         * kernel's four-position path); float sources only. */
        const int stem = kind != 0 && rnd_in(0, 2) == 0;
        bnn_status_t s_ref, s_opt;
        int declined;
        memset(&p, 0, sizeof p);
        memset(&bp, 0, sizeof bp);
        memset(&cp, 0, sizeof cp);
        w = kind == 0 ? &bp.win : &cp.win;
        w->batch = rnd_in(0, 7) == 0 ? 2 : 1;
        w->in_h = rnd_in(1, 9);
        w->in_w = rnd_in(1, 9);
        w->kernel_h = rnd_in(1, 3);
        w->kernel_w = rnd_in(0, 3) == 0 ? rnd_in(1, 3) : w->kernel_h;
        w->stride_h = w->stride_w = rnd_in(1, 2);
        w->dilation_h = w->dilation_w = rnd_in(0, 5) == 0 ? 2 : 1;
        if (stem) {
            w->kernel_h = w->kernel_w = 3;
            w->stride_h = w->stride_w = 1;
            w->dilation_h = w->dilation_w = 1;
            w->in_h = rnd_in(2, 9);
            w->in_w = rnd_in(2, 9);
        }
        if (!finish_window(w, (int)(rnd() & 1u))) {
            continue;
        }
        cout = pick(k_fc, (int32_t)(sizeof k_fc / sizeof *k_fc));
        cin = kind == 0 ? pick(k_channels, (int32_t)(sizeof k_channels / sizeof *k_channels))
                        : (stem ? 1 : rnd_in(1, 3));
        k = w->kernel_h * w->kernel_w * cin;
        if (cout > BNN_OPT_MAX_COUT
            || (kind == 0 ? w->batch * w->in_h * w->in_w * BNN_WORDS(cin)
                          : w->batch * w->in_h * w->in_w * cin) > BNN_OPT_IN_WORDS
            || (kind == 1 ? cout * k : cout * k) > BNN_OPT_BUF_WORDS) {
            continue;
        }
        p.batch = w->batch;
        p.map_h = w->out_h;
        p.map_w = w->out_w;
        p.channels = cout;
        for (j = 0; j < cout; ++j) {
            const int32_t r = rnd_in(0, 3);
            g_mul[j] = r == 0 ? 0.25f * (float)rnd_in(-4, 4) : rnd_f(2.0f);
            g_bias[j] = r == 0 ? 0.5f + (float)rnd_in(-20, 20) : rnd_f(8.0f);
            g_stage_c[j] = rnd_f(3.0f);
        }
        if (kind == 0) {
            const int32_t r = rnd_in(0, 9);
            bp.channels_in = cin;
            bp.channels_out = cout;
            bp.groups = 1;
            bp.pad_mode = r < 6 ? BNN_BPAD_ONE : (r < 9 ? BNN_BPAD_ZERO_INT : BNN_BPAD_ZERO_FLOAT);
            bp.out_type = (rnd() & 1u) && bp.pad_mode != BNN_BPAD_ZERO_FLOAT ? BNN_OUT_S8
                                                                              : BNN_OUT_F32;
            bp.clamp_min = rnd_in(0, 3) == 0 ? rnd_in(0, k) : 0;
            bp.clamp_max = 2 * k;
            if (bp.pad_mode == BNN_BPAD_ZERO_FLOAT) {
                bp.clamp_min = 0;
            }
            bp.mul = g_mul;
            bp.bias = g_bias;
            p.src = BNN_FUSED_BCONV;
            p.bconv = &bp;
            p.quant_s8 = bp.out_type == BNN_OUT_S8;
            p.zero_point = p.quant_s8 ? rnd_in(-3, 3) : 0;
            fill_packed(g_in, w->batch * w->in_h * w->in_w, cin);
            fill_packed(g_filter, cout * w->kernel_h * w->kernel_w, cin);
        } else {
            float *x = (float *)g_in;
            cp.in_c = cin;
            cp.out_c = cout;
            cp.groups = 1;
            cp.act_min = rnd_in(0, 2) == 0 ? 0.0f : -FLT_MAX;
            cp.act_max = FLT_MAX;
            p.src = kind == 1 ? BNN_FUSED_CONV_F32 : BNN_FUSED_CONV_BINW_F32;
            p.conv_f32 = &cp;
            p.bias = rnd_in(0, 3) == 0 ? NULL : g_bias;
            p.scale = kind == 2 ? g_mul : NULL;
            for (j = 0; j < w->batch * w->in_h * w->in_w * cin; ++j) {
                x[j] = rnd_in(0, 7) == 0 ? (rnd_in(0, 1) ? 0.0f : -0.0f) : rnd_f(3.0f);
            }
            if (rnd_in(0, 9) == 0) { /* NaN, infinities, huge and tiny values in the input */
                for (j = rnd_in(0, 3); j < w->batch * w->in_h * w->in_w * cin; j += 4) {
                    x[j] = special_float();
                }
            }
            if (kind == 1) {
                float *f = (float *)g_filter;
                for (j = 0; j < cout * k; ++j) {
                    f[j] = rnd_in(0, 9) == 0 ? 0.0f : rnd_f(1.0f);
                }
            } else {
                fill_packed(g_filter, cout * w->kernel_h * w->kernel_w, cin);
            }
            p.n_stages = p.quant_s8 ? 0 : rnd_in(0, 2);
            for (s = 0; s < p.n_stages; ++s) {
                p.stages[s].op = (bnn_fused_op_t)rnd_in(0, 4);
                p.stages[s].c = p.stages[s].op == BNN_FUSED_CLAMP ? NULL : g_stage_c;
                p.stages[s].per_channel = (int32_t)(rnd() & 1u);
                p.stages[s].act_min = rnd_in(0, 2) == 0 ? -1.0f : -FLT_MAX;
                p.stages[s].act_max = rnd_in(0, 2) == 0 ? 1.0f : FLT_MAX;
            }
        }
        /* A scale or bias that overflows the chain (not with int8 output: the reference's
         * rounding assumes |y| < 2^31, spec section 9.7). */
        if (!p.quant_s8 && rnd_in(0, 9) == 0) {
            const int32_t c = rnd_in(0, cout - 1);
            if (rnd() & 1u) {
                g_mul[c] = rnd_in(0, 1) ? 3e37f : -3e37f;
            } else {
                g_bias[c] = rnd_in(0, 1) ? FLT_MAX : -FLT_MAX;
            }
        }
        fin_h = p.map_h;
        fin_w = p.map_w;
        p.filter = g_filter;
        p.pool_act_min = p.quant_s8 ? -128.0f : -FLT_MAX;
        p.pool_act_max = p.quant_s8 ? 127.0f : FLT_MAX;
        if (stem) {
            memset(&p.pool, 0, sizeof p.pool);
            p.pool.batch = p.batch;
            p.pool.in_h = fin_h;
            p.pool.in_w = fin_w;
            p.pool.kernel_h = p.pool.kernel_w = 2;
            p.pool.stride_h = p.pool.stride_w = 2;
            p.pool.dilation_h = p.pool.dilation_w = 1;
            if (!finish_window(&p.pool, (int)(rnd() & 1u))) {
                continue;
            }
            p.has_pool = 1;
            fin_h = p.pool.out_h;
            fin_w = p.pool.out_w;
        } else if (rnd() & 1u) {
            if (!random_pool(&p.pool, p.batch, fin_h, fin_w)) {
                continue;
            }
            p.has_pool = 1;
            fin_h = p.pool.out_h;
            fin_w = p.pool.out_w;
        }
        if (rnd() & 1u) {
            if (!random_pool(&p.bpool, p.batch, fin_h, fin_w)) {
                continue;
            }
            p.has_bpool = 1;
            fin_h = p.bpool.out_h;
            fin_w = p.bpool.out_w;
        }
        total = p.batch * fin_h * fin_w * cout;
        /* Packing: per pixel, or the flattened map (a RESHAPE) when batch is 1. */
        p.pack_channels = (p.batch == 1 && (rnd() & 1u)) ? total : cout;
        out_words = total / p.pack_channels * BNN_WORDS(p.pack_channels);
        if (out_words > BNN_OPT_BUF_WORDS) {
            continue;
        }
        ++done;
        ++*run;
        declined = !bnn_conv2d_pool_quantize_opt_supports(&p);
        fill_pattern();
        s_ref = bnn_conv2d_pool_quantize_ref(&p, g_in, g_out_ref);
        s_opt = declined ? bnn_conv2d_pool_quantize(&p, g_in, g_out_opt)
                         : bnn_conv2d_pool_quantize_opt(&p, g_in, g_out_opt);
        if (declined != ((kind == 0 && bp.pad_mode == BNN_BPAD_ZERO_FLOAT)
                         || (kind != 0 && k > BNN_OPT_FUSED_MAX_K)
                         || (kind != 0 && BNN_OPT_FUSED_NO_FPU
                             && !(p.has_pool || p.has_bpool)))) {
            report_failure("conv2d_pool_quantize", done,
                           "supports() disagrees with its documentation");
        } else if (s_ref != BNN_OK || s_opt != s_ref) {
            report_failure("conv2d_pool_quantize", done, "status differs or is not ok");
        } else if (!same_outputs()) {
            report_failure("conv2d_pool_quantize", done, "outputs differ");
            put("  kind ");
            put_i(kind);
            put(" cin ");
            put_i(cin);
            put(" cout ");
            put_i(cout);
            put(" pool ");
            put_i(p.has_pool);
            put(" bpool ");
            put_i(p.has_bpool);
            put(" pack ");
            put_i(p.pack_channels);
            put("\n");
        } else {
            ++*pass;
        }
    }
}

/* ---- conv2d_s8, fully_connected_s8 ---- */

#define BNN_OPT_S8_MAX_COUT 64
static int32_t g_s8_mult[BNN_OPT_S8_MAX_COUT];
static int32_t g_s8_shift[BNN_OPT_S8_MAX_COUT];
static int32_t g_s8_bias[BNN_OPT_S8_MAX_COUT];

static int32_t bnn_clamp_s8_test(int32_t v)
{
    return v < -128 ? -128 : (v > 127 ? 127 : v);
}

/* n random int8 values: anywhere in [-128, 127], or (small) within 2 of center, so that
 * sums stay small and an error of one in a sum shows in the requantized output. */
static void fill_s8(int8_t *x, int32_t n, int small, int32_t center)
{
    int32_t j;
    for (j = 0; j < n; ++j) {
        x[j] = (int8_t)(small ? bnn_clamp_s8_test(center + rnd_in(-2, 2)) : rnd_in(-128, 127));
    }
}

/* Requantization of n channels for sums of about 2^bits: Q31 multipliers (some exactly
 * 2^30 or 2^31 - 1), shifts that map the sums onto about +-2^7 (some left shifts), biases
 * (some ties at the rounding point), clamps (none, ReLU-like, narrow) and rounding mode. */
static void random_requant(int32_t n, int32_t bits, int32_t *act_min, int32_t *act_max,
                           bnn_rounding_t *rounding, const int32_t **bias)
{
    int32_t j;
    const int32_t r = rnd_in(0, 3);
    for (j = 0; j < n; ++j) {
        const int32_t m = rnd_in(0, 7);
        g_s8_mult[j] = m == 0 ? 0x40000000 : (m == 1 ? 0x7FFFFFFF : rnd_in(0x40000000, 0x7FFFFFFF));
        g_s8_shift[j] = rnd_in(0, 9) == 0 ? rnd_in(-31, 2) : 7 - bits + rnd_in(-2, 2);
        g_s8_bias[j] = rnd_in(0, 5) == 0 ? (int32_t)(1 << (bits > 2 ? bits - 2 : 0))
                                         : rnd_in(-(1 << bits), 1 << bits);
    }
    *bias = rnd_in(0, 4) == 0 ? NULL : g_s8_bias;
    *act_min = -128;
    *act_max = 127;
    if (r == 1) {
        *act_min = rnd_in(-128, 0);
    } else if (r == 2) {
        *act_min = rnd_in(-128, 20);
        *act_max = rnd_in(*act_min, 127);
    }
    *rounding = (rnd() & 1u) ? BNN_ROUND_UP : BNN_ROUND_AWAY;
}

/* log2 of about the largest |sum| of k products of int8 (+ offset) values, >= 1. */
static int32_t sum_bits(int32_t k)
{
    int32_t b = 15;
    while (k > 1) {
        k >>= 1;
        ++b;
    }
    return b - 1;
}

static const int32_t k_s8_cin[] = {1, 2, 3, 4, 5, 7, 8, 16, 31, 32, 33, 64};
static const int32_t k_s8_cout[] = {1, 2, 3, 5, 8, 16, 31, 33, 64};

static void test_conv2d_s8(int *run, int *pass)
{
    int i, done = 0;
    for (i = 0; done < BNN_OPT_TEST_CASES && i < 50 * BNN_OPT_TEST_CASES; ++i) {
        bnn_conv2d_s8_params_t p;
        bnn_window_t *w = &p.win;
        const int32_t *bias;
        int32_t cg, k;
        int declined, expect_declined, small;
        bnn_status_t s_ref, s_opt;
        memset(&p, 0, sizeof p);
        w->batch = rnd_in(0, 9) == 0 ? 2 : 1;
        if (rnd_in(0, 7) == 0) { /* a dense layer: 1x1 on a 1x1 input */
            w->in_h = w->in_w = 1;
            w->kernel_h = w->kernel_w = 1;
        } else {
            w->in_h = rnd_in(1, 8);
            w->in_w = rnd_in(1, 8);
            w->kernel_h = rnd_in(0, 2) == 0 ? 1 : 3;
            w->kernel_w = rnd_in(0, 4) == 0 ? rnd_in(1, 3) : w->kernel_h;
        }
        w->stride_h = rnd_in(1, 2);
        w->stride_w = rnd_in(0, 3) == 0 ? rnd_in(1, 2) : w->stride_h;
        w->dilation_h = rnd_in(0, 4) == 0 ? 2 : 1;
        w->dilation_w = rnd_in(0, 4) == 0 ? 2 : 1;
        if (!finish_window(w, (int)(rnd() & 1u))) {
            continue;
        }
        p.groups = 1;
        p.in_c = pick(k_s8_cin, (int32_t)(sizeof k_s8_cin / sizeof *k_s8_cin));
        p.out_c = pick(k_s8_cout, (int32_t)(sizeof k_s8_cout / sizeof *k_s8_cout));
        if (rnd_in(0, 7) == 0) {
            p.groups = rnd_in(2, 3);
            p.in_c = p.groups * rnd_in(1, 9);
            p.out_c = p.groups * rnd_in(1, 9);
        }
        cg = p.in_c / p.groups;
        k = w->kernel_h * w->kernel_w * cg;
        if (w->batch * w->in_h * w->in_w * p.in_c > 4 * BNN_OPT_IN_WORDS
            || p.out_c * k > 4 * BNN_OPT_BUF_WORDS
            || w->batch * w->out_h * w->out_w * p.out_c > 4 * BNN_OPT_BUF_WORDS
            || p.out_c > BNN_OPT_S8_MAX_COUT) {
            continue;
        }
        /* The documented input offset range, and now and then one just outside it. */
        p.input_offset = rnd_in(0, 19) == 0 ? (rnd() & 1u ? 129 : -128) : rnd_in(-127, 128);
        if (rnd_in(0, 3) == 0) {
            p.input_offset = rnd_in(0, 1) ? 128 : -127;
        }
        p.output_offset = rnd_in(-128, 127);
        small = rnd_in(0, 3) == 0;
        random_requant(p.out_c, small ? 7 : sum_bits(k), &p.act_min, &p.act_max, &p.rounding,
                       &bias);
        p.out_multiplier = g_s8_mult;
        p.out_shift = g_s8_shift;
        fill_s8((int8_t *)g_in, w->batch * w->in_h * w->in_w * p.in_c, small, -p.input_offset);
        fill_s8((int8_t *)g_filter, p.out_c * k, small, 0);
        ++done;
        ++*run;
        expect_declined = k > BNN_CONV2D_S8_OPT_MAX_K || p.input_offset < -127
                          || p.input_offset > 128;
        declined = !bnn_conv2d_s8_opt_supports(&p);
        fill_pattern();
        s_ref = bnn_conv2d_s8_ref(&p, (const int8_t *)g_in, (const int8_t *)g_filter, bias,
                                  (int8_t *)g_out_ref);
        s_opt = declined ? bnn_conv2d_s8(&p, (const int8_t *)g_in, (const int8_t *)g_filter, bias,
                                         (int8_t *)g_out_opt)
                         : bnn_conv2d_s8_opt(&p, (const int8_t *)g_in, (const int8_t *)g_filter,
                                             bias, (int8_t *)g_out_opt);
        if (declined != expect_declined) {
            report_failure("conv2d_s8", done, "supports() disagrees with its documentation");
        } else if (s_ref != BNN_OK || s_opt != s_ref) {
            report_failure("conv2d_s8", done, "status differs or is not ok");
        } else if (!same_outputs()) {
            report_failure("conv2d_s8", done, "outputs differ");
            put("  in ");
            put_i(w->in_h);
            put("x");
            put_i(w->in_w);
            put("x");
            put_i(p.in_c);
            put(" k ");
            put_i(w->kernel_h);
            put("x");
            put_i(w->kernel_w);
            put(" s ");
            put_i(w->stride_h);
            put(",");
            put_i(w->stride_w);
            put(" d ");
            put_i(w->dilation_h);
            put(",");
            put_i(w->dilation_w);
            put(" cout ");
            put_i(p.out_c);
            put(" groups ");
            put_i(p.groups);
            put(" in_off ");
            put_i(p.input_offset);
            put("\n");
        } else {
            ++*pass;
        }
    }
}

static void test_fully_connected_s8(int *run, int *pass)
{
    static const int32_t k_fin[] = {1, 2, 3, 4, 5, 7, 8, 31, 32, 33, 100, 257, 1152};
    static const int32_t k_fout[] = {1, 2, 3, 4, 5, 7, 10, 33, 64};
    int i, done = 0;
    for (i = 0; done < BNN_OPT_TEST_CASES && i < 50 * BNN_OPT_TEST_CASES; ++i) {
        bnn_fully_connected_s8_params_t p;
        const int32_t *bias;
        int declined, expect_declined, small;
        bnn_status_t s_ref, s_opt;
        memset(&p, 0, sizeof p);
        p.rows = rnd_in(0, 3) == 0 ? rnd_in(2, 3) : 1;
        p.in_features = pick(k_fin, (int32_t)(sizeof k_fin / sizeof *k_fin));
        p.out_features = pick(k_fout, (int32_t)(sizeof k_fout / sizeof *k_fout));
        if (p.rows * p.in_features > 4 * BNN_OPT_IN_WORDS
            || p.out_features * p.in_features > 4 * BNN_OPT_BUF_WORDS) {
            continue;
        }
        p.input_offset = rnd_in(0, 19) == 0 ? (rnd() & 1u ? 129 : -129) : rnd_in(-128, 128);
        p.filter_offset = rnd_in(0, 3) == 0 ? rnd_in(-128, 128) : 0;
        p.output_offset = rnd_in(-128, 127);
        p.per_channel = (int32_t)(rnd() & 1u);
        small = rnd_in(0, 3) == 0;
        if (small && p.filter_offset != 0) {
            p.filter_offset = rnd_in(-2, 2);
        }
        random_requant(p.out_features,
                       small ? 7 : sum_bits(p.in_features) + (p.filter_offset != 0),
                       &p.act_min, &p.act_max, &p.rounding, &bias);
        p.out_multiplier = g_s8_mult;
        p.out_shift = g_s8_shift;
        fill_s8((int8_t *)g_in, p.rows * p.in_features, small, -p.input_offset);
        fill_s8((int8_t *)g_filter, p.out_features * p.in_features, small, -p.filter_offset);
        ++done;
        ++*run;
        expect_declined = p.input_offset < -128 || p.input_offset > 128;
        declined = !bnn_fully_connected_s8_opt_supports(&p);
        fill_pattern();
        s_ref = bnn_fully_connected_s8_ref(&p, (const int8_t *)g_in, (const int8_t *)g_filter,
                                           bias, (int8_t *)g_out_ref);
        s_opt = declined ? bnn_fully_connected_s8(&p, (const int8_t *)g_in,
                                                  (const int8_t *)g_filter, bias,
                                                  (int8_t *)g_out_opt)
                         : bnn_fully_connected_s8_opt(&p, (const int8_t *)g_in,
                                                      (const int8_t *)g_filter, bias,
                                                      (int8_t *)g_out_opt);
        if (declined != expect_declined) {
            report_failure("fully_connected_s8", done,
                           "supports() disagrees with its documentation");
        } else if (s_ref != BNN_OK || s_opt != s_ref) {
            report_failure("fully_connected_s8", done, "status differs or is not ok");
        } else if (!same_outputs()) {
            report_failure("fully_connected_s8", done, "outputs differ");
            put("  rows ");
            put_i(p.rows);
            put(" in ");
            put_i(p.in_features);
            put(" out ");
            put_i(p.out_features);
            put(" offsets ");
            put_i(p.input_offset);
            put(",");
            put_i(p.filter_offset);
            put("\n");
        } else {
            ++*pass;
        }
    }
}

/* ---- bench: the layers of bnn_cnn_small ---- */

#if BNN_OPT_BENCH
static uint64_t g_overhead;

static void bench_line(const char *name, uint64_t ref, uint64_t opt, uint64_t macs)
{
    put("BNN BENCH {\"name\":\"");
    put(name);
    put("\",\"ref\":");
    put_u64(ref > g_overhead ? ref - g_overhead : 0u);
    put(",\"opt\":");
    put_u64(opt > g_overhead ? opt - g_overhead : 0u);
    put(",\"macs\":");
    put_u64(macs);
    put(",\"unit\":\"");
    put(bnn_port_cycle_unit());
    put("\"}\n");
}

/* A 3x3 SAME (pad_values=1) conv of bnn_cnn_small, or a dense layer (1x1 on 1x1). */
static void bench_conv(const char *name, int32_t hw, int32_t k, int32_t cin, int32_t cout,
                       bnn_out_type_t out_type)
{
    bnn_bconv2d_params_t p;
    bnn_window_t *w = &p.win;
    int32_t co, out_bytes;
    uint64_t t0, t1, t2;
    memset(&p, 0, sizeof p);
    w->batch = 1;
    w->in_h = w->in_w = hw;
    w->kernel_h = w->kernel_w = k;
    w->stride_h = w->stride_w = w->dilation_h = w->dilation_w = 1;
    (void)finish_window(w, 1);
    p.channels_in = cin;
    p.channels_out = cout;
    p.groups = 1;
    p.pad_mode = BNN_BPAD_ONE;
    p.out_type = out_type;
    out_bytes = hw * hw * (out_type == BNN_OUT_PACKED ? 4 * BNN_WORDS(cout) : 4 * cout);
    if (hw * hw * BNN_WORDS(cin) > BNN_OPT_IN_WORDS
        || cout * k * k * BNN_WORDS(cin) > BNN_OPT_BUF_WORDS || out_bytes > 8 * BNN_OPT_BUF_WORDS) {
        put("BNN BENCH skipped ");
        put(name);
        put(": does not fit the buffers\n");
        return;
    }
    for (co = 0; co < cout; ++co) {
        g_mul[co] = rnd_f(1.0f);
        g_bias[co] = rnd_f(50.0f);
        g_threshold[co] = rnd_in(0, k * k * cin);
    }
    p.clamp_min = 0;
    p.clamp_max = 2 * k * k * cin;
    p.mul = g_mul;
    p.bias = g_bias;
    p.threshold = g_threshold;
    fill_packed(g_in, hw * hw, cin);
    fill_packed(g_filter, cout * k * k, cin);
    t0 = bnn_port_cycles();
    (void)bnn_bconv2d_ref(&p, g_in, g_filter, g_out, NULL);
    t1 = bnn_port_cycles();
    (void)bnn_bconv2d_opt(&p, g_in, g_filter, g_out, NULL);
    t2 = bnn_port_cycles();
    bench_line(name, t1 - t0, t2 - t1, (uint64_t)hw * (uint64_t)hw * (uint64_t)cout
                                           * (uint64_t)(k * k * cin));
}

static void bench_pool(const char *name, int32_t hw, int32_t c)
{
    bnn_bmaxpool2d_params_t p;
    uint64_t t0, t1, t2;
    memset(&p, 0, sizeof p);
    p.win.batch = 1;
    p.win.in_h = p.win.in_w = hw;
    p.win.kernel_h = p.win.kernel_w = p.win.stride_h = p.win.stride_w = 2;
    p.win.dilation_h = p.win.dilation_w = 1;
    (void)finish_window(&p.win, 0);
    p.channels = c;
    if (hw * hw * BNN_WORDS(c) > BNN_OPT_IN_WORDS) {
        put("BNN BENCH skipped ");
        put(name);
        put(": does not fit the buffers\n");
        return;
    }
    fill_packed(g_in, hw * hw, c);
    t0 = bnn_port_cycles();
    (void)bnn_bmaxpool2d_ref(&p, g_in, g_out_ref);
    t1 = bnn_port_cycles();
    (void)bnn_bmaxpool2d_opt(&p, g_in, g_out_opt);
    t2 = bnn_port_cycles();
    bench_line(name, t1 - t0, t2 - t1, 0u);
}

static void bench_quantize(const char *name, int32_t rows, int32_t c)
{
    bnn_quantize_params_t p;
    float *x = (float *)g_in;
    int32_t j;
    uint64_t t0, t1, t2;
    memset(&p, 0, sizeof p);
    p.rows = rows;
    p.channels = c;
    if (rows * c > BNN_OPT_IN_WORDS) {
        put("BNN BENCH skipped ");
        put(name);
        put(": does not fit the buffers\n");
        return;
    }
    for (j = 0; j < p.rows * c; ++j) {
        x[j] = rnd_f(3.0f);
    }
    t0 = bnn_port_cycles();
    (void)bnn_quantize_f32_ref(&p, x, g_out_ref);
    t1 = bnn_port_cycles();
    (void)bnn_quantize_f32_opt(&p, x, g_out_opt);
    t2 = bnn_port_cycles();
    bench_line(name, t1 - t0, t2 - t1, 0u);
}

static void bench(void)
{
    uint64_t a = bnn_port_cycles();
    uint64_t b = bnn_port_cycles();
    g_overhead = b - a;
    /* bnn_cnn_small on 28x28x1: conv2 14x14x32 -> 64, conv3 7x7x64 -> 128, fc1 1152 -> 128,
     * fc_out 128 -> 10; float outputs (BN folded), and conv2 with packed output. */
    bench_conv("conv2_f32", 14, 3, 32, 64, BNN_OUT_F32);
    bench_conv("conv2_packed", 14, 3, 32, 64, BNN_OUT_PACKED);
    bench_conv("conv3_f32", 7, 3, 64, 128, BNN_OUT_F32);
    bench_conv("fc1_f32", 1, 1, 1152, 128, BNN_OUT_F32);
    bench_conv("fc_out_f32", 1, 1, 128, 10, BNN_OUT_F32);
    /* Smaller stand-ins that fit the M0's 16 KB. */
    bench_conv("small_conv_7x7x32_32_packed", 7, 3, 32, 32, BNN_OUT_PACKED);
    bench_conv("small_dense_320_16_f32", 1, 1, 320, 16, BNN_OUT_F32);
    bench_pool("pool2_14x14x64", 14, 64);
    bench_pool("pool3_7x7x128", 7, 128);
    bench_quantize("quantize_48x64", 48, 64);
    bench_quantize("quantize_4x64", 4, 64);
}
#endif

int main(void)
{
    int run = 0, pass = 0;
    bnn_port_init();
    put("bnn-lq optimized kernels vs reference on ");
    put(bnn_port_board());
    put("\n");
    test_bconv(&run, &pass);
    test_bmaxpool(&run, &pass);
    test_quantize(&run, &pass);
    test_fused(&run, &pass);
    test_conv2d_s8(&run, &pass);
    test_fully_connected_s8(&run, &pass);
    put("BNN TESTS: ");
    put_i(pass);
    put("/");
    put_i(run);
    put(pass == run && run > 0 ? " PASS\n" : " FAIL\n");
#if BNN_OPT_BENCH
    bench();
#endif
    return pass == run && run > 0 ? 0 : 1;
}
