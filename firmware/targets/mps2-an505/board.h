/**
 * @file board.h
 * @brief mps2-an505: board facts for firmware/targets/cortex-m/bnn_port.c.
 */
#ifndef BNN_BOARD_H
#define BNN_BOARD_H

#define BNN_BOARD_NAME "mps2-an505"
/* Instructions per SysTick tick under QEMU -icount shift=0 (= 1e9 / SysTick Hz).
 * Measured with tests/firmware_targets/calib (QEMU 7.2, -icount shift=0): 60,000,000 loop
 * instructions took 1,200,000 ticks -> 50 (SysTick at 20 MHz). */
#define BNN_BOARD_INSNS_PER_TICK_NUM 50u
#define BNN_BOARD_INSNS_PER_TICK_DEN 1u
/* 1 when the core has a DWT cycle counter (used on real hardware only). */
#define BNN_BOARD_HAS_DWT 1
/* UART driver for BNN_PORT_IO_UART=1 builds (real hardware): none (semihosting only) */

#endif /* BNN_BOARD_H */
