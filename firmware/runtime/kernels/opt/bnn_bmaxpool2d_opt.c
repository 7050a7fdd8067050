/* LceBMaxPool2d, optimized (spec §7): bit-exact with bnn_bmaxpool2d_ref.
 *
 * Why it is faster: the window clipped to the input is computed once per output pixel
 * (rows once per output row), so no tap is bounds-checked; a fully inside 2x2 window (the
 * usual MaxPool2D(2)) ANDs its four words in one expression per word; other windows AND
 * row by row into the output with pointer steps instead of index arithmetic.
 * An output word is the AND of the words of at least one tap: TFLite's geometry keeps
 * every window overlapping the input, and an empty window (impossible with valid geometry)
 * gives all ones, as the reference's initial value does.
 */
#include "../../src/bnn_internal.h"

int bnn_bmaxpool2d_opt_supports(const bnn_bmaxpool2d_params_t *p)
{
    return p != NULL;
}

bnn_status_t bnn_bmaxpool2d_opt(const bnn_bmaxpool2d_params_t *p, const uint32_t *in, uint32_t *out)
{
    const bnn_window_t *w = &p->win;
    int32_t n, oy, ox, fy, fx, j, words;
    size_t row_words;
    bnn_status_t st = bnn_check_window(w, "bmaxpool2d");
    if (st != BNN_OK) {
        return st;
    }
    BNN_ENSURE(p->channels >= 1, "bmaxpool2d", "channels", p->channels, BNN_ERR_ARG);
    words = BNN_WORDS(p->channels);
    row_words = (size_t)w->in_w * (size_t)words;
    for (n = 0; n < w->batch; ++n) {
        for (oy = 0; oy < w->out_h; ++oy) {
            const int32_t iy0 = oy * w->stride_h - w->pad_top;
            const int32_t y0 = bnn_max_i32(iy0, 0);
            const int32_t y1 = bnn_min_i32(iy0 + w->kernel_h, w->in_h);
            uint32_t *y = out + ((size_t)n * (size_t)w->out_h + (size_t)oy) * (size_t)w->out_w
                                    * (size_t)words;
            for (ox = 0; ox < w->out_w; ++ox, y += words) {
                const int32_t ix0 = ox * w->stride_w - w->pad_left;
                const int32_t x0 = bnn_max_i32(ix0, 0);
                const int32_t x1 = bnn_min_i32(ix0 + w->kernel_w, w->in_w);
                const uint32_t *r0 = in + (((size_t)n * (size_t)w->in_h + (size_t)y0)
                                           * (size_t)w->in_w + (size_t)x0) * (size_t)words;
                if (y1 - y0 == 2 && x1 - x0 == 2) {
                    const uint32_t *a = r0, *b = r0 + words, *c = r0 + row_words;
                    const uint32_t *d = c + words;
                    for (j = 0; j < words; ++j) {
                        y[j] = a[j] & b[j] & c[j] & d[j];
                    }
                    continue;
                }
                for (j = 0; j < words; ++j) {
                    y[j] = 0xFFFFFFFFu;
                }
                if (y1 <= y0 || x1 <= x0) {
                    continue;
                }
                for (fy = y0; fy < y1; ++fy, r0 += row_words) {
                    const uint32_t *t = r0;
                    for (fx = x0; fx < x1; ++fx, t += words) {
                        for (j = 0; j < words; ++j) {
                            y[j] &= t[j];
                        }
                    }
                }
            }
        }
    }
    return BNN_OK;
}
