/* bnn_bslice_ge (kernels/opt/bnn_bslice_opt.h) against a plain popcount compare: random
 * filters of 1..18 words, 1..32 filters per block, bounds anywhere in int32 (also <= 0 and
 * > 32 kw), inputs random, sparse, dense, all 0 and all 1 (both summed sets, empty rounds,
 * half rounds). Prints "N/N ok" and exits 0 when every bit matches. */
#include <stdio.h>
#include <stdlib.h>

#include "bnn_bslice_opt.h"

static uint32_t g_state = 12345u;

static uint32_t rnd(void)
{
    g_state ^= g_state << 13;
    g_state ^= g_state >> 17;
    g_state ^= g_state << 5;
    return g_state;
}

static int popcount(uint32_t v)
{
    int c = 0;
    for (; v != 0u; v &= v - 1u) {
        ++c;
    }
    return c;
}

int main(void)
{
    static bnn_bslice_t bs;
    static uint32_t f[32 * BNN_BSLICE_MAX_KW], x[BNN_BSLICE_MAX_KW + 1];
    int32_t u[32];
    long bad = 0, n = 0;
    int it;
    for (it = 0; it < 20000; ++it) {
        const int kw = 1 + (int)(rnd() % BNN_BSLICE_MAX_KW), nc = 1 + (int)(rnd() % 32);
        const int dens = (int)(rnd() % 6);
        uint32_t want = 0u, got;
        int i, l, w;
        for (i = 0; i < nc * kw; ++i) {
            f[i] = rnd();
        }
        for (w = 0; w < kw; ++w) {
            const uint32_t v = rnd();
            x[w] = dens == 0 ? v : dens == 1 ? v & rnd() & rnd() : dens == 2 ? v | rnd() | rnd()
                 : dens == 3 ? 0u : dens == 4 ? 0xFFFFFFFFu : (rnd() & 1u ? v : ~0u);
        }
        for (l = 0; l < nc; ++l) {
            const int m = (int)(rnd() % 6);
            u[l] = m == 0 ? (int32_t)rnd() : m == 1 ? -5 + (int32_t)(rnd() % 10)
                 : m == 2 ? 32 * kw - 3 + (int32_t)(rnd() % 8) : (int32_t)(rnd() % (32u * kw + 2u));
        }
        bnn_bslice_setup(&bs, f, kw, nc, u);
        got = bnn_bslice_ge(&bs, x);
        for (l = 0; l < nc; ++l) {
            int c = 0;
            for (w = 0; w < kw; ++w) {
                c += popcount(x[w] ^ f[l * kw + w]);
            }
            want |= (uint32_t)(c >= u[l]) << l;
        }
        ++n;
        if (got != want) {
            if (bad < 5) {
                printf("kw %d nc %d: got %08lx want %08lx\n", kw, nc, (unsigned long)got,
                       (unsigned long)want);
            }
            ++bad;
        }
    }
    printf("%ld/%ld ok\n", n - bad, n);
    return bad != 0;
}
