/**
 * @file calib.c
 * @brief SysTick calibration under QEMU -icount shift=0: times two delay loops
 *        of known instruction count and prints the raw ticks and the port's
 *        converted count, one machine-readable line per loop:
 *
 *   BNN CALIB n=<iterations> insns=<2n> ticks=<SysTick ticks> count=<bnn_port_cycles delta> unit=<unit>
 *
 * The loop body is `subs r0, r0, #1; bne 1b`: exactly 2 instructions per
 * iteration. tests/firmware_targets/test_targets.py takes the difference of two
 * loop lengths (so the fixed overhead cancels) and checks the board's
 * BNN_BOARD_INSNS_PER_TICK and the port's conversion against it.
 */
#include <stdint.h>

#include "bnn/bnn_port.h"

static void put_u64(uint64_t v)
{
    char buf[24];
    char *p = buf + sizeof buf - 1;
    *p = '\0';
    do {
        *--p = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    bnn_port_write(p);
}

#if defined(__thumb__)
static __attribute__((noinline)) void delay_loop(uint32_t n)
{
    __asm volatile(
        ".syntax unified\n"
        "1: subs %0, %0, #1\n"
        "   bne 1b\n"
        : "+l"(n)
        :
        : "cc");
}
#else
/* Host and Linux builds: only checks that the port's counter advances. */
static __attribute__((noinline)) void delay_loop(uint32_t n)
{
    for (volatile uint32_t i = n; i != 0u; --i) {
    }
}
#endif

static void measure(uint32_t n)
{
    uint32_t t0 = bnn_port_ticks();
    uint64_t c0 = bnn_port_cycles();
    delay_loop(n);
    uint32_t t1 = bnn_port_ticks();
    uint64_t c1 = bnn_port_cycles();
    bnn_port_write("BNN CALIB n=");
    put_u64(n);
    bnn_port_write(" insns=");
    put_u64(2u * (uint64_t)n);
    bnn_port_write(" ticks=");
    put_u64((uint32_t)(t1 - t0));
    bnn_port_write(" count=");
    put_u64(c1 - c0);
    bnn_port_write(" unit=");
    bnn_port_write(bnn_port_cycle_unit());
    bnn_port_write("\n");
}

int main(void)
{
    bnn_port_init();
    measure(100000u);
    /* 2 x 30 M instructions: several 24-bit SysTick wraps on every board. */
    measure(30100000u);
    return 0;
}
