/**
 * @file startup.c
 * @brief Reset and vector table shared by every Cortex-M target.
 *
 * Order at reset (why it matters):
 *   1. Enable the FPU (and MVE on v8.1-M) through CPACR *before* any C code:
 *      a hard-float build may use VFP registers anywhere, even in the copy loops.
 *      This step is a naked assembly stub so the compiler cannot schedule a float
 *      instruction ahead of it.
 *      On v8-M mainline, MSPLIM is set to the bottom of the stack reserve.
 *   2. Paint the stack reserve with a pattern (stack high-water measurement).
 *   3. Copy .data from flash, zero .bss.
 *   4. main(); its return value becomes the exit code.
 *
 * Symbols come from the target's link.ld: __data_load__, __data_start__,
 * __data_end__, __bss_start__, __bss_end__, __stack_limit__, __stack_top__.
 */
#include <stdint.h>

#include "bnn/bnn_port.h"
#include "cortexm.h"

extern uint32_t __data_load__[], __data_start__[], __data_end__[];
extern uint32_t __bss_start__[], __bss_end__[];
extern uint32_t __stack_limit__[], __stack_top__[];

int main(void);
void Reset_Handler(void);
void bnn_reset_c(void);
void bnn_default_handler(void);
void HardFault_Handler(void);
void SysTick_Handler(void);

__attribute__((naked, noreturn)) void Reset_Handler(void)
{
    __asm volatile(
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
        /* CPACR (0xE000ED88): CP10 and CP11 full access (bits 20-23). On v8.1-M
         * the same two fields gate MVE (Helium). */
        "ldr r0, =0xE000ED88\n"
        "ldr r1, [r0]\n"
        "orr r1, r1, #(0xF << 20)\n"
        "str r1, [r0]\n"
        "dsb\n"
        "isb\n"
#endif
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
        /* v8-M mainline (M33, M55): a stack overflow past the reserve faults at once
         * instead of corrupting .bss. */
        "ldr r0, =__stack_limit__\n"
        "msr msplim, r0\n"
#endif
        "b bnn_reset_c\n");
}

__attribute__((noreturn, used)) void bnn_reset_c(void)
{
    /* Paint the stack below the current frame; leave 64 bytes for this frame. */
    uint32_t here;
    uint32_t *paint_end = (uint32_t *)((uintptr_t)&here - 64u);
    for (uint32_t *p = __stack_limit__; p < paint_end; ++p) {
        *p = BNN_STACK_PAINT;
    }
    const uint32_t *src = __data_load__;
    for (uint32_t *dst = __data_start__; dst < __data_end__; ++dst) {
        *dst = *src++;
    }
    for (uint32_t *dst = __bss_start__; dst < __bss_end__; ++dst) {
        *dst = 0u;
    }
    bnn_port_exit(main());
    for (;;) {
    }
}

__attribute__((used)) void bnn_default_handler(void)
{
    bnn_port_write("\nBNN FAULT: unexpected exception\n");
    bnn_port_exit(3);
}

__attribute__((used)) void HardFault_Handler(void)
{
    bnn_port_write("\nBNN FAULT: HardFault (stack overflow, bad pointer or an "
                   "instruction this core lacks)\n");
    bnn_port_exit(3);
}

typedef void (*bnn_vector_t)(void);

/* The 16 core vectors; no peripheral interrupt is used. */
__attribute__((section(".isr_vector"), used)) const bnn_vector_t bnn_vectors[16] = {
    (bnn_vector_t)(uintptr_t)__stack_top__, /* 0  initial MSP */
    Reset_Handler,                          /* 1  reset */
    bnn_default_handler,                    /* 2  NMI */
    HardFault_Handler,                      /* 3  HardFault */
    bnn_default_handler,                    /* 4  MemManage */
    bnn_default_handler,                    /* 5  BusFault */
    bnn_default_handler,                    /* 6  UsageFault */
    bnn_default_handler,                    /* 7  SecureFault (v8-M) */
    0,
    0,
    0,
    bnn_default_handler, /* 11 SVCall */
    bnn_default_handler, /* 12 DebugMonitor */
    0,
    bnn_default_handler, /* 14 PendSV */
    SysTick_Handler,     /* 15 SysTick */
};
