/**
 * @file bnn_port.c
 * @brief bnn_port.h for POSIX systems: the `host` target (x86-64 gcc) and the
 *        static ARM Linux executables (`aarch64-linux`, `armv7-linux`), which
 *        run here under qemu-user. Output to stdout, time in ns of
 *        CLOCK_MONOTONIC (wall time: under qemu-user it measures the emulator).
 *
 * BNN_BOARD_NAME comes from the Makefile (-DBNN_BOARD_NAME="\"host\"").
 */
#define _POSIX_C_SOURCE 199309L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bnn/bnn_port.h"

#ifndef BNN_BOARD_NAME
#define BNN_BOARD_NAME "host"
#endif

/* GNU ld's default linker scripts define these. */
extern char __executable_start[], etext[], edata[], end[], __data_start[];

static uint64_t g_ns_base;

static uint64_t bnn_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bnn_port_init(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_ns_base = bnn_now_ns();
}

void bnn_port_write(const char *s)
{
    if (s != NULL) {
        fputs(s, stdout);
    }
}

uint32_t bnn_port_ticks(void)
{
    return (uint32_t)(bnn_now_ns() - g_ns_base);
}

uint64_t bnn_port_cycles(void)
{
    return bnn_now_ns() - g_ns_base;
}

const char *bnn_port_cycle_unit(void)
{
    return "ns";
}

void bnn_port_exit(int code)
{
    fflush(stdout);
    exit(code);
}

const char *bnn_port_board(void)
{
    return BNN_BOARD_NAME;
}

size_t bnn_port_flash_used(void)
{
    return (size_t)(edata - __executable_start);
}

size_t bnn_port_ram_used(void)
{
    return (size_t)(end - __data_start);
}

long bnn_port_stack_high_water(void)
{
    return -1;
}
