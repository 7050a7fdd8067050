/* LceBconv2d reference kernel (spec §6): XOR-popcount accumulation, then the output
 * transform of §6.5 (float / int8) or thresholds (packed). */
#include "../../src/bnn_internal.h"

/*
 * Zero padding, float output, LCE's default kernel (spec §6.8 and Appendix B).
 * The default kernel accumulates with ONE padding and then adds a float correction
 * C = (float)(-pam) * (float)S, where S sums fsum(co, fy, fx) = Cg - 2*popcount(F[co,fy,fx])
 * over a set of taps chosen by one of four "cases" (the corner the kernel overhangs).
 * 1. In the normal regime (EKH <= H, EKW <= W) the chosen taps are exactly the outside
 *    taps, so S removes the +1 * weight that one padding added: true zero padding.
 * 2. When the dilated kernel is larger than the input, LCE's four-case cache does not
 *    describe the outside taps; we reproduce its choice literally (Appendix B) so that
 *    the output matches the oracle, not true zero padding.
 * 3. For float output s = 1, so mul[co] = (float)(-(double)pam[co]) = -pam[co] exactly,
 *    and C = mul[co] * (float)S: no extra constant is needed.
 * Returns 0 and sets *has_corr = 0 when no correction applies at (oy, ox).
 */
static int32_t zero_pad_sum(const bnn_bconv2d_params_t *p, const uint32_t *filter_co,
                            int32_t words_g, int32_t cg, int32_t oy, int32_t ox, int *has_corr)
{
    const bnn_window_t *w = &p->win;
    const int32_t ekh = (w->kernel_h - 1) * w->dilation_h + 1;
    const int32_t ekw = (w->kernel_w - 1) * w->dilation_w + 1;
    /* C division truncates toward zero; LCE does not clamp these at 0. */
    const int32_t top = ((w->out_h - 1) * w->stride_h + ekh - w->in_h) / 2;
    const int32_t left = ((w->out_w - 1) * w->stride_w + ekw - w->in_w) / 2;
    const int32_t ot = top - oy * w->stride_h;
    const int32_t ob = ekh - w->in_h - ot;
    const int32_t ol = left - ox * w->stride_w;
    const int32_t orr = ekw - w->in_w - ol;
    int32_t which, cy = 0, cx = 0, fy, fx, j, s = 0;

    if (ol <= 0 && orr <= 0 && ot <= 0 && ob <= 0) {
        which = -1;
    } else if (orr <= 0 && ot > 0 && ob < 0) {
        which = 0, cx = bnn_max_i32(ol, 0), cy = ot;
    } else if (ol < 0 && orr > 0 && ob <= 0) {
        which = 1, cx = orr, cy = bnn_max_i32(ot, 0);
    } else if (ol > 0 && orr < 0 && ot <= 0) {
        which = 2, cx = ol, cy = bnn_max_i32(ob, 0);
    } else if (ol <= 0 && ot < 0 && ob > 0) {
        which = 3, cx = bnn_max_i32(orr, 0), cy = ob;
    } else {
        which = -1;
    }
    *has_corr = which >= 0;
    if (which < 0) {
        return 0;
    }
    for (fy = 0; fy < w->kernel_h; ++fy) {
        for (fx = 0; fx < w->kernel_w; ++fx) {
            const int32_t ey = fy * w->dilation_h;
            const int32_t ex = fx * w->dilation_w;
            const int row_hit = (which < 2) ? (ey < cy) : (ekh - ey <= cy);
            const int col_hit = (which == 0 || which == 2) ? (ex < cx) : (ekw - ex <= cx);
            if (row_hit || col_hit) {
                const uint32_t *f = filter_co + ((size_t)fy * (size_t)w->kernel_w + (size_t)fx)
                                                    * (size_t)words_g;
                int32_t pc = 0;
                for (j = 0; j < words_g; ++j) {
                    pc += bnn_popcount32(f[j]);
                }
                s += cg - 2 * pc;
            }
        }
    }
    return s;
}

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
                                const int32_t s = zero_pad_sum(p, f_co, words_g, cg, oy, ox,
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
