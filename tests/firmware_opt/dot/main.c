/* bnn_opt_dot_many and bnn_opt_dot1 (kernels/opt/bnn_bdot_opt.h) against a plain popcount:
 * kw 0..200 words with 1..64 filters, every n for kw 32..40 (the kw 36 assembly kernel and
 * its neighbours), kw 72 and 108, on random data, all bits differing, none, nearly all and
 * nearly none (the rare carry path of the kw 36 kernel); words past acc[n - 1] must stay
 * untouched. Prints "HS CHECK passed/run PASS|FAIL", then per-filter instruction counts
 * (x100) on Cortex-M builds. */
#include <stdint.h>
#include <string.h>
#include "bnn/bnn_port.h"
#include "../../../firmware/runtime/kernels/opt/bnn_bdot_opt.h"

#define KW_MAX 200
#define N_MAX 64
static uint32_t g_x[KW_MAX], g_f[N_MAX * KW_MAX + 4];
static int32_t g_acc[N_MAX + 4];
static uint32_t s_rng = 12345u;
static uint32_t rnd(void) { s_rng ^= s_rng << 13; s_rng ^= s_rng >> 17; s_rng ^= s_rng << 5; return s_rng; }
static int32_t pc(uint32_t v) { int32_t c = 0; while (v) { v &= v - 1u; ++c; } return c; }
static void put_i(long v) { char b[24]; char *p = b + 23; unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v; *p = 0; do { *--p = (char)('0' + u % 10u); u /= 10u; } while (u); if (v < 0) *--p = '-'; bnn_port_write(p); }

static int32_t fails, runs;
static void check(int32_t kw, int32_t n, int32_t mode)
{
    int32_t i, b;
    for (i = 0; i < kw; ++i) g_x[i] = mode == 1 ? 0u : mode == 2 ? 0xFFFFFFFFu : rnd();
    for (i = 0; i < n * kw + 4; ++i) {
        uint32_t v;
        switch (mode) {
        case 0: v = rnd(); break;
        case 1: v = 0xFFFFFFFFu; break; /* every bit differs: count = 32 kw */
        case 2: v = 0xFFFFFFFFu; break; /* nothing differs */
        case 3: v = ~g_x[i % (kw ? kw : 1)] ^ (rnd() & rnd() & rnd() & rnd()); break; /* near all */
        default: v = g_x[i % (kw ? kw : 1)] ^ (rnd() & rnd() & rnd()); break;         /* near none */
        }
        g_f[i] = v;
    }
    for (b = n; b < N_MAX + 4; ++b) g_acc[b] = 0x5A5A5A5A;
    bnn_opt_dot_many(g_x, g_f, kw, n, g_acc);
    for (b = 0; b < n; ++b) {
        int32_t want = 0, one = bnn_opt_dot1(g_x, g_f + b * kw, kw);
        for (i = 0; i < kw; ++i) want += pc(g_x[i] ^ g_f[b * kw + i]);
        ++runs;
        if (g_acc[b] != want || one != want) {
            ++fails;
            if (fails < 10) { bnn_port_write("FAIL kw "); put_i(kw); bnn_port_write(" n "); put_i(n); bnn_port_write(" mode "); put_i(mode); bnn_port_write(" b "); put_i(b); bnn_port_write(" got "); put_i(g_acc[b]); bnn_port_write(" "); put_i(one); bnn_port_write(" want "); put_i(want); bnn_port_write("\n"); }
        }
    }
    for (b = n; b < N_MAX + 4; ++b) {
        if (g_acc[b] != 0x5A5A5A5A) { ++fails; bnn_port_write("OVERWRITE kw "); put_i(kw); bnn_port_write(" n "); put_i(n); bnn_port_write("\n"); break; }
    }
}

int main(void)
{
    static const int32_t ns[] = {1, 2, 3, 4, 5, 7, 8, 16, 31, 32, 33, 63, 64};
    int32_t kw, n, mode, k;
    bnn_port_init();
    for (mode = 0; mode < 5; ++mode) {
        for (kw = 0; kw <= KW_MAX; ++kw) {
            for (k = 0; k < (int32_t)(sizeof ns / sizeof ns[0]); ++k) {
                check(kw, ns[k], mode);
            }
        }
        for (kw = 32; kw <= 40; ++kw) {
            for (n = 1; n <= N_MAX; ++n) {
                check(kw, n, mode);
            }
        }
        check(72, 64, mode);
        check(108, 64, mode);
    }
    bnn_port_write("HS CHECK ");
    put_i(runs - fails); bnn_port_write("/"); put_i(runs); bnn_port_write(fails ? " FAIL\n" : " PASS\n");
    {
        static const int32_t kws[] = {16, 24, 32, 36, 40, 48, 72};
        uint32_t i;
        for (i = 0; i < sizeof g_f / 4; ++i) g_f[i] = rnd();
        for (i = 0; i < KW_MAX; ++i) g_x[i] = rnd();
        for (k = 0; k < (int32_t)(sizeof kws / sizeof kws[0]); ++k) {
            uint64_t t0, t1;
            t0 = bnn_port_cycles();
            bnn_opt_dot_many(g_x, g_f, kws[k], 32, g_acc);
            t1 = bnn_port_cycles();
            bnn_port_write("kw "); put_i(kws[k]); bnn_port_write(" per filter x100 (n 32, random): "); put_i((long)((t1 - t0) * 100u / 32u)); bnn_port_write("\n");
        }
        for (i = 0; i < sizeof g_f / 4; ++i) g_f[i] = ~g_x[i % 36];
        {
            uint64_t t0 = bnn_port_cycles(), t1;
            bnn_opt_dot_many(g_x, g_f, 36, 32, g_acc);
            t1 = bnn_port_cycles();
            bnn_port_write("kw 36 per filter x100 (n 32, all bits differ: z path): "); put_i((long)((t1 - t0) * 100u / 32u)); bnn_port_write("\n");
        }
    }
    return fails != 0;
}
