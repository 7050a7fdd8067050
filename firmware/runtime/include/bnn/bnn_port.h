/**
 * @file bnn_port.h
 * @brief The port seam: everything the runtime and the accuracy-check app need
 *        from a board, and nothing more.
 *
 * Each target implements this header in firmware/targets/<target>/ (Cortex-M
 * boards share firmware/targets/cortex-m/bnn_port.c, parameterized by the
 * board's board.h). Nothing in firmware/runtime/ includes a vendor header; it
 * talks to the board only through these functions.
 *
 * Output: bnn_port_write() goes to semihosting under QEMU, to stdout on the
 * host and on ARM Linux, and to a UART on real boards (build flag
 * BNN_PORT_IO=uart).
 *
 * Time: bnn_port_ticks() is the raw counter, bnn_port_cycles() the converted
 * count whose unit bnn_port_cycle_unit() names:
 *   - QEMU boards: SysTick on the core clock, run under `-icount shift=0`, where
 *     every instruction takes 1 ns of virtual time; instructions = ticks *
 *     BNN_BOARD_INSNS_PER_TICK (the per-board calibration, see board.h).
 *   - real Cortex-M boards: core clock cycles (DWT CYCCNT where the core has one,
 *     else SysTick on the core clock, which counts the same cycles).
 *   - host and ARM Linux: nanoseconds of CLOCK_MONOTONIC.
 */
#ifndef BNN_PORT_H
#define BNN_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Starts the counters and the output channel. Call once, first. */
void bnn_port_init(void);

/**
 * @brief Writes a NUL-terminated string to the board's output channel.
 * @param[in] s Text, written as is (no newline added). NULL writes nothing.
 */
void bnn_port_write(const char *s);

/**
 * @brief The raw counter: SysTick ticks since bnn_port_init() (wraps of the
 *        24-bit SysTick are counted, so this increases monotonically), modulo
 *        2^32. Nanoseconds on host and Linux targets.
 */
uint32_t bnn_port_ticks(void);

/**
 * @brief Monotonic count since bnn_port_init() in bnn_port_cycle_unit() units:
 *        instructions (QEMU, icount), cycles (real board) or ns (host, Linux).
 */
uint64_t bnn_port_cycles(void);

/** @brief "instructions", "cycles" or "ns": the unit of bnn_port_cycles(). */
const char *bnn_port_cycle_unit(void);

/**
 * @brief Ends the program with an exit code: semihosting SYS_EXIT_EXTENDED
 *        under QEMU (QEMU exits with @p code), exit() on host and Linux, a
 *        breakpoint-and-spin loop on real boards. Does not return.
 */
void bnn_port_exit(int code);

/* ---- Board facts for the accuracy-check app (firmware/app/). ---- */

/** @brief The board name the firmware was built for ("netduinoplus2", "host"). */
const char *bnn_port_board(void);

/**
 * @brief Flash used by the image: text + rodata + the load image of .data, in
 *        bytes, from linker symbols. On host and Linux: the executable's
 *        text..data span (includes page padding; an upper bound).
 */
size_t bnn_port_flash_used(void);

/**
 * @brief RAM reserved by the image: .data + .bss + the stack reserve, in bytes,
 *        from linker symbols. On host and Linux: .data + .bss only.
 */
size_t bnn_port_ram_used(void);

/**
 * @brief Deepest stack use since reset in bytes (the stack is painted at reset
 *        and scanned here), or -1 when the target cannot measure it (host, Linux).
 */
long bnn_port_stack_high_water(void);

#ifdef __cplusplus
}
#endif

#endif /* BNN_PORT_H */
