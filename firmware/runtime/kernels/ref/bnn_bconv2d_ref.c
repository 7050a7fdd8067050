/* LceBconv2d reference kernel (spec §6): XOR-popcount accumulation, then the output
 * transform of §6.5 (float / int8) or thresholds (packed). */
#include "../../src/bnn_internal.h"


bnn_status_t bnn_bconv2d_ref(const bnn_bconv2d_params_t *p, const uint32_t *in,
                             const uint32_t *filter, void *out, void *scratch)
{
    const bnn_window_t *w = &p->win;
    int32_t n, oy, ox, co, fy, fx, j;
    int32_t cg, words_in, words_g, words_out, cout_g, k;
    bnn_status_t st;
    (void)scratch;

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
    BNN_ENSURE(p->pad_mode == BNN_BPAD_ONE || p->pad_mode == BNN_BPAD_ZERO_INT ||
                   p->pad_mode == BNN_BPAD_ZERO_FLOAT,
               "bconv2d", "pad_mode", p->pad_mode, BNN_ERR_ARG);
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

    cg = p->channels_in / p->groups;
    words_in = BNN_WORDS(p->channels_in);
    words_g = BNN_WORDS(cg);
    words_out = BNN_WORDS(p->channels_out);
    cout_g = p->channels_out / p->groups;
    k = w->kernel_h * w->kernel_w * cg;
    if (p->pad_mode == BNN_BPAD_ZERO_FLOAT) {
        /* LCE's default kernel runs zero padding only for float output without activation. */
        BNN_ENSURE(p->out_type == BNN_OUT_F32, "bconv2d", "out_type", p->out_type,
                   BNN_ERR_UNSUPPORTED);
        BNN_ENSURE(p->clamp_min <= 0 && p->clamp_max >= 2 * k, "bconv2d", "clamp_min",
                   p->clamp_min, BNN_ERR_UNSUPPORTED);
    }

    for (n = 0; n < w->batch; ++n) {
        for (oy = 0; oy < w->out_h; ++oy) {
            for (ox = 0; ox < w->out_w; ++ox) {
                const size_t pix = ((size_t)n * (size_t)w->out_h + (size_t)oy) * (size_t)w->out_w
                                   + (size_t)ox;
                if (p->out_type == BNN_OUT_PACKED) {
                    for (j = 0; j < words_out; ++j) {
                        ((uint32_t *)out)[pix * (size_t)words_out + (size_t)j] = 0u;
                    }
                }
                for (co = 0; co < p->channels_out; ++co) {
                    const int32_t g = co / cout_g;
                    const uint32_t *f_co = filter + (size_t)co * (size_t)w->kernel_h
                                                        * (size_t)w->kernel_w * (size_t)words_g;
                    int32_t acc = 0;      /* popcount over inside taps (+ one-padding taps) */
                    int32_t n_outside = 0; /* outside taps, zero padding only */
                    int32_t x2;
                    for (fy = 0; fy < w->kernel_h; ++fy) {
                        const int32_t iy = oy * w->stride_h - w->pad_top + fy * w->dilation_h;
                        for (fx = 0; fx < w->kernel_w; ++fx) {
                            const int32_t ix = ox * w->stride_w - w->pad_left + fx * w->dilation_w;
                            const uint32_t *f = f_co + ((size_t)fy * (size_t)w->kernel_w
                                                        + (size_t)fx) * (size_t)words_g;
                            if (iy >= 0 && iy < w->in_h && ix >= 0 && ix < w->in_w) {
                                const uint32_t *x = in + (((size_t)n * (size_t)w->in_h + (size_t)iy)
                                                              * (size_t)w->in_w + (size_t)ix)
                                                             * (size_t)words_in
                                                    + (size_t)g * (size_t)words_g;
                                for (j = 0; j < words_g; ++j) {
                                    acc += bnn_popcount32(x[j] ^ f[j]);
                                }
                            } else if (p->pad_mode == BNN_BPAD_ZERO_INT) {
                                ++n_outside;
                            } else {
                                /* One padding: the input word is 0 (all +1). */
                                for (j = 0; j < words_g; ++j) {
                                    acc += bnn_popcount32(f[j]);
                                }
                            }
                        }
                    }
                    /* x2 = K - d. With zero padding each outside tap is a 0 in d, i.e.
                     * Cg in x2 (LCE's reference kernel: Cg/2 in acc, the same for even Cg). */
                    x2 = 2 * acc + n_outside * cg;
                    if (p->out_type == BNN_OUT_PACKED) {
                        const int32_t acc_eff = acc + n_outside * (cg / 2);
                        if (acc_eff > p->threshold[co]) {
                            ((uint32_t *)out)[pix * (size_t)words_out + (size_t)(co / 32)] |=
                                1u << (co % 32);
                        }
                    } else {
                        float y = bnn_bconv_transform(x2, p->clamp_min, p->clamp_max, p->mul[co],
                                                      p->bias[co]);
                        if (p->out_type == BNN_OUT_F32) {
                            if (p->pad_mode == BNN_BPAD_ZERO_FLOAT) {
                                int has_corr;
                                const int32_t s = bnn_bconv2d_zero_pad_sum(p, f_co, words_g, cg, oy, ox,
                                                               &has_corr);
                                if (has_corr) {
                                    const float corr = p->mul[co] * (float)s;
                                    y = y + corr;
                                }
                            }
                            ((float *)out)[pix * (size_t)p->channels_out + (size_t)co] = y;
                        } else {
                            ((int8_t *)out)[pix * (size_t)p->channels_out + (size_t)co] =
                                bnn_round_sat_s8(y);
                        }
                    }
                }
            }
        }
    }
    return BNN_OK;
}
