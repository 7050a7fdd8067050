/* Bit-sliced binary dot products for blocks of up to 32 filters (bnn_bslice_opt.h). */
#include "bnn_bslice_opt.h"

#include "../../src/bnn_internal.h"
#include "bnn_bdot_opt.h"

#if BNN_OPT_BSLICE

#if defined(__GNUC__)
#define BS_INLINE static inline __attribute__((always_inline))
#else
#define BS_INLINE static inline
#endif

/* Leading zeros of c != 0: one CLZ on ARMv7-M and up. */
BS_INLINE uint32_t bs_clz(uint32_t c)
{
    return (uint32_t)__builtin_clz(c);
}

/*
 * Transposes a 32x32 bit matrix in place: afterwards bit (31 - i) of a[k] is what bit
 * (31 - k) of a[i] was (Hacker's Delight, transpose32: five rounds of block swaps of 16,
 * 8, 4, 2 and 1 bits; each swap three XORs, an AND and two shifts).
 */
#define BS_SWAP(k, j, m)                                                                       \
    do {                                                                                       \
        const uint32_t t = (a[k] ^ (a[(k) + (j)] >> (j))) & (m);                               \
        a[k] ^= t;                                                                             \
        a[(k) + (j)] ^= t << (j);                                                              \
    } while (0)
/* One round: the pairs (k, k + j) for every k with bit j clear, four per line. */
#define BS_ROUND4(k, j, m)                                                                     \
    BS_SWAP((k), j, m);                                                                        \
    BS_SWAP((k) + 1, j, m);                                                                    \
    BS_SWAP((k) + 2, j, m);                                                                    \
    BS_SWAP((k) + 3, j, m)
/* Swap of the j-bit blocks of two words held in registers. */
#define BS_SWAPR(x, y, j, m)                                                                   \
    do {                                                                                       \
        const uint32_t t = ((x) ^ ((y) >> (j))) & (m);                                         \
        (x) ^= t;                                                                              \
        (y) ^= t << (j);                                                                       \
    } while (0)
static void transpose32(uint32_t *a)
{
    int32_t i;
    for (i = 0; i < 16; i += 4) {
        BS_ROUND4(i, 16, 0x0000FFFFu);
    }
    for (i = 0; i < 32; i += 16) {
        BS_ROUND4(i, 8, 0x00FF00FFu);
        BS_ROUND4(i + 4, 8, 0x00FF00FFu);
    }
    /* the rounds of 4, 2 and 1 bits stay within groups of eight words: in registers */
    for (i = 0; i < 32; i += 8) {
        uint32_t r0 = a[i], r1 = a[i + 1], r2 = a[i + 2], r3 = a[i + 3];
        uint32_t r4 = a[i + 4], r5 = a[i + 5], r6 = a[i + 6], r7 = a[i + 7];
        BS_SWAPR(r0, r4, 4, 0x0F0F0F0Fu);
        BS_SWAPR(r1, r5, 4, 0x0F0F0F0Fu);
        BS_SWAPR(r2, r6, 4, 0x0F0F0F0Fu);
        BS_SWAPR(r3, r7, 4, 0x0F0F0F0Fu);
        BS_SWAPR(r0, r2, 2, 0x33333333u);
        BS_SWAPR(r1, r3, 2, 0x33333333u);
        BS_SWAPR(r4, r6, 2, 0x33333333u);
        BS_SWAPR(r5, r7, 2, 0x33333333u);
        BS_SWAPR(r0, r1, 1, 0x55555555u);
        BS_SWAPR(r2, r3, 1, 0x55555555u);
        BS_SWAPR(r4, r5, 1, 0x55555555u);
        BS_SWAPR(r6, r7, 1, 0x55555555u);
        a[i] = r0;
        a[i + 1] = r1;
        a[i + 2] = r2;
        a[i + 3] = r3;
        a[i + 4] = r4;
        a[i + 5] = r5;
        a[i + 6] = r6;
        a[i + 7] = r7;
    }
}

/* floor(v / 2) for any int32 v (no reliance on the sign of >>). */
BS_INLINE int32_t floor_half(int32_t v)
{
    return v >= 0 ? v / 2 : -((1 - v) / 2);
}

/* planes[p] bit l = bit p of vals[l], l < 32, p < n. */
static void to_planes(const int32_t *vals, int32_t n, uint32_t *planes)
{
    uint32_t a[32];
    int32_t l, p;
    for (l = 0; l < 32; ++l) {
        a[31 - l] = (uint32_t)vals[l];
    }
    transpose32(a); /* a[k] bit l = bit 31 - k of vals[l] */
    for (p = 0; p < n; ++p) {
        planes[p] = a[31 - p];
    }
}

void bnn_bslice_setup(bnn_bslice_t *bs, const uint32_t *filter, int32_t kw, int32_t nc,
                      const int32_t *u)
{
    const int32_t bits = 32 * kw;
    int32_t pop[32], vals[32];
    int32_t w, l, r, planes = 1;
    /* Lane words: lanes[32 w + k] bit l = bit 31 - k of word w of filter l (transposed in
     * place: word w of filter l goes to lanes[32 w + 31 - l] first). */
    for (w = 0; w < kw; ++w) {
        uint32_t *const a = bs->lanes + 32 * w;
        const uint32_t *f = filter + w;
        for (l = 0; l < nc; ++l, f += kw) {
            a[31 - l] = *f;
        }
        for (; l < 32; ++l) {
            a[31 - l] = 0u;
        }
        transpose32(a);
    }
    for (l = 0; l < 32; ++l) {
        bs->lanes[32 * kw + l] = 0u; /* the padding word of bnn_bslice_ge */
        pop[l] = l < nc ? bnn_opt_count(filter + (size_t)l * (size_t)kw, kw) : 0;
    }
    /* Values lie in [-(bits + 1), bits]: sign plane + enough magnitude planes. */
    while ((1 << (planes - 1)) < bits + 1) {
        ++planes;
    }
    bs->planes = planes;
    bs->kw = kw;
    bs->valid = nc >= 32 ? 0xFFFFFFFFu : (1u << nc) - 1u;
    for (r = 0; r < 2; ++r) {
        /* Set bits summed (V1): count >= U  <=>  V1 <= floor((P - U + n1) / 2)
         * = floor((P - U + r) / 2) + q for n1 = 2 q + r, i.e. the sign of
         * V1 + (-floor((P - U + r) / 2) - 1) - q. */
        for (l = 0; l < 32; ++l) {
            const int32_t ul = l < nc ? bnn_clamp_i32(u[l], 0, bits + 1) : 0;
            vals[l] = -floor_half(pop[l] - ul + r) - 1;
        }
        to_planes(vals, planes, bs->start[0][r]);
        /* Clear bits summed (V0): count >= U  <=>  V0 >= ceil((U + P - n1) / 2)
         * = floor((U + P + 1 - r) / 2) - q, i.e. V0 - floor((U + P + 1 - r) / 2) + q >= 0. */
        for (l = 0; l < 32; ++l) {
            const int32_t ul = l < nc ? bnn_clamp_i32(u[l], 0, bits + 1) : 0;
            vals[l] = -floor_half(ul + pop[l] + 1 - r);
        }
        to_planes(vals, planes, bs->start[1][r]);
    }
}

/*
 * The sum loop: `rounds` rounds of sixteen selected lane words added into the counter
 * planes pl[0 .. planes) (pl[0..3] = ones, twos, fours, eights of a carry-save adder
 * tree; every sixteens carry ripples into pl[4..]). The selected bits are the set bits of
 * x[w] ^ inv; x[kw] ^ inv is all ones and its lane words are zero (the padding of the last
 * round: it adds nothing).
 */
typedef struct {
    const uint32_t *x;     /* +0 */
    const uint32_t *lanes; /* +4 */
    uint32_t *pl;          /* +8 */
    int32_t rounds;        /* +12, >= 0 */
    uint32_t *pl_end;      /* +16: pl + planes */
    uint32_t inv;          /* +20: selection mask, XORed into every word as it is read */
    int32_t half;          /* +24: 1: then one round of eight words */
} bs_run_t;

#if defined(__thumb2__) && !BNN_BSLICE_PORTABLE
/*
 * Thumb-2 assembly (GCC allocates this loop badly: it spills the sixteen words). Per
 * selected bit: CBNZ (next word?), CLZ, LDR of its lane word, LSR + BIC to clear it; then a
 * full adder per two words on ones (5 instructions), one per four on twos, ... About 12
 * instructions per selected bit for all 32 filters of the block.
 * Registers: r0 current word, r1 its lane words, r2 its address, r3 r4 fetched words,
 * r5 scratch, r6 ones, r7 twos, r8 0x80000000, r9 r10 r11 carries held between adders,
 * r12 scratch, lr rounds left; [sp] pl, [sp + 4] pl_end, [sp + 8] inv, [sp + 12] half;
 * fours and eights stay in pl[].
 */
#define BS_FETCH(reg)                                                                          \
    "1: cbnz r0, 2f\n\t"                                                                       \
    "ldr r0, [r2, #4]!\n\t"                                                                    \
    "ldr r5, [sp, #8]\n\t"                                                                     \
    "eor r0, r0, r5\n\t"                                                                       \
    "add r1, r1, #128\n\t"                                                                     \
    "b 1b\n"                                                                                   \
    "2: clz r5, r0\n\t"                                                                        \
    "ldr " reg ", [r1, r5, lsl #2]\n\t"                                                        \
    "lsr r5, r8, r5\n\t"                                                                       \
    "bic r0, r0, r5\n\t"
/* Two words into ones; the twos carry in h (r3 allowed). */
#define BS_PAIR(h)                                                                             \
    BS_FETCH("r3") BS_FETCH("r4")                                                              \
    "eor r12, r6, r3\n\t"                                                                      \
    "and " h ", r6, r3\n\t"                                                                    \
    "and r5, r12, r4\n\t"                                                                      \
    "orr " h ", " h ", r5\n\t"                                                                 \
    "eor r6, r12, r4\n\t"
/* twos + a + b (a in r9, b in r3): the fours carry in h. */
#define BS_TWOS(h)                                                                             \
    "eor r12, r7, r9\n\t"                                                                      \
    "and " h ", r7, r9\n\t"                                                                    \
    "and r5, r12, r3\n\t"                                                                      \
    "orr " h ", " h ", r5\n\t"                                                                 \
    "eor r7, r12, r3\n\t"
/* Eight words: the eights carry in e. */
#define BS_EIGHT(e)                                                                            \
    BS_PAIR("r9") BS_PAIR("r3") BS_TWOS("r10")                                                 \
    BS_PAIR("r9") BS_PAIR("r3") BS_TWOS("r9")                                                  \
    "ldr r4, [sp]\n\t"                                                                         \
    "ldr r3, [r4, #8]\n\t"                                                                     \
    "eor r12, r3, r10\n\t"                                                                     \
    "and " e ", r3, r10\n\t"                                                                   \
    "and r5, r12, r9\n\t"                                                                      \
    "orr " e ", " e ", r5\n\t"                                                                 \
    "eor r3, r12, r9\n\t"                                                                      \
    "str r3, [r4, #8]\n\t"

/* Ripple the carry r9 into pl[4 .. planes) (r4 = pl), stopping when no carry is left;
 * ends at label `done`. */
#define BS_RIPPLE(loop, done)                                                                  \
    "ldr r11, [sp, #4]\n\t"                                                                    \
    "add r10, r4, #16\n"                                                                        \
    loop ": ldr r3, [r10]\n\t"                                                                 \
    "eor r5, r3, r9\n\t"                                                                       \
    "ands r9, r3, r9\n\t"                                                                      \
    "str r5, [r10], #4\n\t"                                                                    \
    "beq " done "f\n\t"                                                                         \
    "cmp r10, r11\n\t"                                                                         \
    "bne " loop "b\n"

__attribute__((naked, noinline)) static void bs_rounds(bs_run_t *run)
{
    (void)run;
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "ldr r2, [r0, #0]\n\t"
        "ldr r1, [r0, #4]\n\t"
        "ldr r3, [r0, #8]\n\t"
        "ldr lr, [r0, #12]\n\t"
        "ldr r4, [r0, #16]\n\t"
        "ldr r5, [r0, #20]\n\t"
        "ldr r12, [r0, #24]\n\t"
        "push {r3, r4, r5, r12}\n\t"
        "ldr r6, [r3, #0]\n\t"
        "ldr r7, [r3, #4]\n\t"
        "mov r8, #0x80000000\n\t"
        "ldr r0, [r2]\n\t"
        "eor r0, r0, r5\n\t"
        "cmp lr, #0\n\t"
        "beq 8f\n"
        "5:\n\t"
        BS_EIGHT("r11")
        BS_EIGHT("r10")
        /* eights + r11 + r10: the sixteens carry in r9 */
        "ldr r4, [sp]\n\t"
        "ldr r3, [r4, #12]\n\t"
        "eor r12, r3, r11\n\t"
        "and r9, r3, r11\n\t"
        "and r5, r12, r10\n\t"
        "orr r9, r9, r5\n\t"
        "eor r3, r12, r10\n\t"
        "str r3, [r4, #12]\n\t"
        BS_RIPPLE("6", "7")
        "7: subs lr, lr, #1\n\t"
        "bne 5b\n"
        /* the half round: eight words, eights + r11 by a half adder */
        "8: ldr r5, [sp, #12]\n\t"
        "cmp r5, #0\n\t"
        "beq 9f\n\t"
        BS_EIGHT("r11")
        "ldr r4, [sp]\n\t"
        "ldr r3, [r4, #12]\n\t"
        "and r9, r3, r11\n\t"
        "eor r3, r3, r11\n\t"
        "str r3, [r4, #12]\n\t"
        BS_RIPPLE("3", "9")
        "9: ldr r4, [sp]\n\t"
        "str r6, [r4, #0]\n\t"
        "str r7, [r4, #4]\n\t"
        "add sp, sp, #16\n\t"
        "pop {r4-r11, pc}\n\t");
}
#else
/* Full adder per bit of three words: a + b + c = l + 2 h. */
#define BS_CSA(h, l, a, b, c)                                                                  \
    do {                                                                                       \
        const uint32_t u_ = (a) ^ (b);                                                         \
        (h) = ((a) & (b)) | (u_ & (c));                                                       \
        (l) = u_ ^ (c);                                                                        \
    } while (0)

/* The same sum in C (host builds and -DBNN_BSLICE_PORTABLE=1), pair by pair. */
static void bs_rounds(bs_run_t *run)
{
    const uint32_t *xp = run->x, *tw = run->lanes;
    uint32_t *const pl = run->pl;
    const uint32_t inv = run->inv;
    uint32_t cur = *xp ^ inv, ones = pl[0], twos = pl[1], fours = pl[2], eights = pl[3];
    const int32_t words = 16 * run->rounds + 8 * run->half;
    int32_t i;
    {
        for (i = 0; i < words; i += 2) {
            uint32_t v[2], t2, t4, t8;
            int32_t j;
            for (j = 0; j < 2; ++j) {
                uint32_t k;
                while (cur == 0u) {
                    cur = *++xp ^ inv;
                    tw += 32;
                }
                k = bs_clz(cur);
                cur &= ~(0x80000000u >> k);
                v[j] = tw[k];
            }
            BS_CSA(t2, ones, ones, v[0], v[1]);
            /* t2 at weight 2: add it into twos (carry to fours), and so on up */
            t4 = twos & t2;
            twos ^= t2;
            t8 = fours & t4;
            fours ^= t4;
            if (t8 != 0u) {
                uint32_t *p = pl + 4;
                uint32_t c = eights & t8;
                eights ^= t8;
                for (; c != 0u && p != run->pl_end; ++p) {
                    const uint32_t t = *p & c;
                    *p ^= c;
                    c = t;
                }
            }
        }
    }
    pl[0] = ones;
    pl[1] = twos;
    pl[2] = fours;
    pl[3] = eights;
}
#endif

uint32_t bnn_bslice_ge(const bnn_bslice_t *bs, uint32_t *x)
{
    return bnn_bslice_ge_n1(bs, x, bnn_opt_count(x, bs->kw));
}

void bnn_bslice_pixel_counts(const uint32_t *in, int32_t pixels, int32_t words, uint16_t *pop)
{
    int32_t i;
    for (i = 0; i < pixels; ++i, in += words) {
        pop[i] = (uint16_t)bnn_opt_count(in, words);
    }
}

uint32_t bnn_bslice_ge_n1(const bnn_bslice_t *bs, uint32_t *x, int32_t n1)
{
    const int32_t kw = bs->kw, planes = bs->planes;
    uint32_t pl[BNN_BSLICE_MAX_PLANES];
    uint32_t inv, c, s;
    int32_t sel, left, p;
    bs_run_t run;
    /* Sum over the smaller set: the set bits (sel 0) or the clear bits (sel 1). */
    sel = n1 > 16 * kw;
    inv = sel ? 0xFFFFFFFFu : 0u;
    left = sel ? 32 * kw - n1 : n1;
    x[kw] = ~inv; /* padding of the last round: lanes[32 kw ..] are 0 */
    /* Start value: start[sel][n1 & 1] -+ q, q = n1 / 2 (broadcast, ripple-carry add; a
     * set bit of s adds all-ones: sum = ~(a ^ c), carry = a | c). */
    s = sel ? (uint32_t)(n1 >> 1) : (uint32_t)-(n1 >> 1);
    c = 0u;
    {
        const uint32_t *a = bs->start[sel][n1 & 1];
        for (p = 0; p < planes; ++p, s >>= 1) {
            const uint32_t ap = a[p];
            if (s & 1u) {
                pl[p] = ~(ap ^ c);
                c |= ap;
            } else {
                pl[p] = ap ^ c;
                c &= ap;
            }
        }
    }
    run.x = x;
    run.lanes = bs->lanes;
    run.pl = pl;
    run.rounds = left / 16;
    run.half = 0;
    if (left % 16 > 8) {
        ++run.rounds;
    } else if (left % 16 > 0) {
        run.half = 1;
    }
    run.pl_end = pl + planes;
    run.inv = inv;
    bs_rounds(&run);
    /* pl[0..3] are single bits per lane (no pending carry): the value is the binary number
     * in pl[], so its sign is the top plane. */
    s = pl[planes - 1];
    return (sel ? ~s : s) & bs->valid;
}

#endif /* BNN_OPT_BSLICE */
