# microbit: compiler and flags for firmware/Makefile.
KIND := cortexm
CROSS := arm-none-eabi-
CPU_FLAGS := -mcpu=cortex-m0 -mthumb -mfloat-abi=soft
UART_SRC := uart_nrf51.c
QEMU_MACHINE := microbit
