/**
 * @file cortexm.h
 * @brief The few Cortex-M system registers the port uses (ARMv6-M/v7-M/v8-M
 *        architecture reference manuals, System Control Space at 0xE000E000).
 */
#ifndef BNN_CORTEXM_H
#define BNN_CORTEXM_H

#include <stdint.h>

#define BNN_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* SysTick (B3.3): 24-bit down counter. */
#define SYST_CSR BNN_REG(0xE000E010u)  /* bit0 ENABLE, bit1 TICKINT, bit2 CLKSOURCE=core, bit16 COUNTFLAG */
#define SYST_RVR BNN_REG(0xE000E014u)  /* reload value, 24 bits */
#define SYST_CVR BNN_REG(0xE000E018u)  /* current value; any write clears it to 0 */
#define SYST_RELOAD 0x00FFFFFFu
#define SCB_ICSR BNN_REG(0xE000ED04u)  /* bit26 PENDSTSET: SysTick exception pending */
#define SCB_ICSR_PENDSTSET (1u << 26)

/* DWT cycle counter (v7-M and later, optional; not emulated by QEMU). */
#define DEMCR BNN_REG(0xE000EDFCu)     /* bit24 TRCENA */
#define DWT_CTRL BNN_REG(0xE0001000u)  /* bit0 CYCCNTENA */
#define DWT_CYCCNT BNN_REG(0xE0001004u)
#define DWT_LAR BNN_REG(0xE0001FB0u)   /* Cortex-M7: write 0xC5ACCE55 to unlock */

/* Stack paint pattern: an unlikely value that is also an undefined instruction. */
#define BNN_STACK_PAINT 0xDEADBEEFu

#endif /* BNN_CORTEXM_H */
