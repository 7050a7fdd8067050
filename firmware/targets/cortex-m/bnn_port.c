/**
 * @file bnn_port.c
 * @brief bnn_port.h for every Cortex-M board; the board's board.h (found first
 *        on the include path) supplies its name, clock and calibration.
 *
 * Build flags (set by firmware/Makefile):
 *   BNN_PORT_IO_UART=1  output to the board UART (uart_<family>.c) instead of
 *                       semihosting; counters report core cycles, not QEMU
 *                       instructions. For real boards.
 *
 * Counting instructions under QEMU: with `-icount shift=0` every instruction
 * advances virtual time by exactly 1 ns, and SysTick on the core clock ticks at
 * the board's emulated frequency, so instructions = ticks * 1e9 / f. The board
 * stores that ratio as BNN_BOARD_INSNS_PER_TICK_NUM / _DEN, measured with
 * tests/firmware_targets/calib.c (a loop of known instruction count).
 *
 * The 24-bit SysTick wraps every 2^24 ticks; the SysTick interrupt counts wraps
 * and bnn_systick_now() combines the wrap count with the current value, also
 * handling a wrap whose interrupt is pending but not yet taken.
 */
#include <stdint.h>

#include "bnn/bnn_port.h"
#include "board.h"
#include "cortexm.h"

#if BNN_PORT_IO_UART
void bnn_uart_init(void);
void bnn_uart_putc(char c);
#endif

extern uint32_t __flash_start__[], __flash_end__[];
extern uint32_t __data_start__[], __bss_end__[];
extern uint32_t __stack_limit__[], __stack_top__[];

static volatile uint32_t g_wraps;  /* SysTick reloads since enable */
static uint64_t g_tick_base;       /* bnn_systick_now() at bnn_port_init() */
static int g_have_systick;         /* 0 when SysTick never left 0 (not running) */

#if BNN_PORT_IO_UART && BNN_BOARD_HAS_DWT
static uint32_t g_dwt_last;  /* last CYCCNT seen */
static uint64_t g_dwt_high;  /* 2^32 multiples seen so far */

/* Extends CYCCNT to 64 bits; called at least once per SysTick period (2^24
 * cycles < 2^32), so no wrap is missed. Interrupts are masked around the update. */
static uint64_t bnn_dwt_now(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
    uint32_t now = DWT_CYCCNT;
    if (now < g_dwt_last) {
        g_dwt_high += (uint64_t)1 << 32;
    }
    g_dwt_last = now;
    uint64_t result = g_dwt_high | now;
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
    return result;
}
#endif

void SysTick_Handler(void)
{
    g_wraps = g_wraps + 1u;
#if BNN_PORT_IO_UART && BNN_BOARD_HAS_DWT
    (void)bnn_dwt_now();
#endif
}

/* Ticks since SysTick was enabled: wraps * 2^24 + elapsed in the current period. */
static uint64_t bnn_systick_now(void)
{
    uint32_t w1;
    uint32_t w2;
    uint32_t value;
    uint32_t pending;
    do {
        w1 = g_wraps;
        value = SYST_CVR;
        pending = SCB_ICSR & SCB_ICSR_PENDSTSET;
        w2 = g_wraps;
    } while (w1 != w2);
    /* A pending, untaken SysTick with a freshly reloaded (large) value means the
     * wrap happened before `value` was read; a small value means after. */
    if (pending != 0u && value > SYST_RELOAD / 2u) {
        w1 += 1u;
    }
    return (uint64_t)w1 * (SYST_RELOAD + 1u) + (SYST_RELOAD - value);
}

#if !BNN_PORT_IO_UART
/* ARM semihosting call (QEMU: -semihosting-config enable=on,target=native). */
static void bnn_semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}
#endif

void bnn_port_init(void)
{
#if BNN_PORT_IO_UART
    bnn_uart_init();
#if BNN_BOARD_HAS_DWT
    DEMCR |= 1u << 24;
    DWT_LAR = 0xC5ACCE55u;
    DWT_CYCCNT = 0u;
    DWT_CTRL |= 1u;
#endif
#endif
    SYST_CSR = 0u;
    SYST_RVR = SYST_RELOAD;
    SYST_CVR = 0u;
    SYST_CSR = 7u; /* ENABLE | TICKINT | CLKSOURCE=core clock */
    /* Right after enabling, the counter reads 0 until its first reload: wait for
     * it (bounded, for a board whose SysTick does not run). */
    for (uint32_t i = 0; i < 1000000u; ++i) {
        if (SYST_CVR != 0u) {
            g_have_systick = 1;
            break;
        }
    }
    g_wraps = 0u;
    g_tick_base = bnn_systick_now();
}

void bnn_port_write(const char *s)
{
    if (s == 0) {
        return;
    }
#if BNN_PORT_IO_UART
    for (; *s != '\0'; ++s) {
        if (*s == '\n') {
            bnn_uart_putc('\r');
        }
        bnn_uart_putc(*s);
    }
#else
    bnn_semihost(0x04u, s); /* SYS_WRITE0 */
#endif
}

uint32_t bnn_port_ticks(void)
{
    return (uint32_t)(bnn_systick_now() - g_tick_base);
}

uint64_t bnn_port_cycles(void)
{
#if BNN_PORT_IO_UART
#if BNN_BOARD_HAS_DWT
    return bnn_dwt_now();
#else
    /* SysTick on the core clock counts cycles. The nRF51's Cortex-M0 has no SysTick
     * on real silicon (QEMU has one): then there is no count ("n/a"). */
    return g_have_systick ? bnn_systick_now() - g_tick_base : 0u;
#endif
#else
    if (!g_have_systick) {
        return 0u;
    }
    return (bnn_systick_now() - g_tick_base) * BNN_BOARD_INSNS_PER_TICK_NUM /
           BNN_BOARD_INSNS_PER_TICK_DEN;
#endif
}

const char *bnn_port_cycle_unit(void)
{
#if BNN_PORT_IO_UART && BNN_BOARD_HAS_DWT
    return "cycles";
#elif BNN_PORT_IO_UART
    return g_have_systick ? "cycles" : "n/a";
#else
    return g_have_systick ? "instructions" : "n/a";
#endif
}

void bnn_port_exit(int code)
{
#if BNN_PORT_IO_UART
    (void)code;
    __asm volatile("cpsid i");
    for (;;) {
        __asm volatile("wfi");
    }
#else
    /* SYS_EXIT_EXTENDED (0x20): {ADP_Stopped_ApplicationExit, code}; QEMU exits
     * with `code`. */
    uint32_t block[2] = {0x20026u, (uint32_t)code};
    bnn_semihost(0x20u, block);
    for (;;) {
    }
#endif
}

const char *bnn_port_board(void)
{
    return BNN_BOARD_NAME;
}

size_t bnn_port_flash_used(void)
{
    return (size_t)((uintptr_t)__flash_end__ - (uintptr_t)__flash_start__);
}

size_t bnn_port_ram_used(void)
{
    /* .data + .bss, plus the stack reserve (which the linker places after .bss
     * or in its own region; count it separately so both layouts add up). */
    return (size_t)((uintptr_t)__bss_end__ - (uintptr_t)__data_start__) +
           (size_t)((uintptr_t)__stack_top__ - (uintptr_t)__stack_limit__);
}

long bnn_port_stack_high_water(void)
{
    const uint32_t *p = __stack_limit__;
    while (p < __stack_top__ && *p == BNN_STACK_PAINT) {
        ++p;
    }
    return (long)((uintptr_t)__stack_top__ - (uintptr_t)p);
}
