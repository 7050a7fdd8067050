/**
 * @file board.h
 * @brief microbit: board facts for firmware/targets/cortex-m/bnn_port.c.
 */
#ifndef BNN_BOARD_H
#define BNN_BOARD_H

#define BNN_BOARD_NAME "microbit"
/* Instructions per SysTick tick under QEMU -icount shift=0 (= 1e9 / SysTick Hz).
 * Measured with tests/firmware_targets/calib (QEMU 7.2, -icount shift=0): 60,000,000 loop
 * instructions took 960,000 ticks -> 62.5 (SysTick at 16 MHz). */
#define BNN_BOARD_INSNS_PER_TICK_NUM 125u
#define BNN_BOARD_INSNS_PER_TICK_DEN 2u
/* 1 when the core has a DWT cycle counter (used on real hardware only). */
#define BNN_BOARD_HAS_DWT 0
/* UART driver for BNN_PORT_IO_UART=1 builds (real hardware): uart_nrf51.c */

#endif /* BNN_BOARD_H */
