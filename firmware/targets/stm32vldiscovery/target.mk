# stm32vldiscovery: compiler and flags for firmware/Makefile.
KIND := cortexm
CROSS := arm-none-eabi-
CPU_FLAGS := -mcpu=cortex-m3 -mthumb -mfloat-abi=soft
UART_SRC := uart_stm32f1.c
QEMU_MACHINE := stm32vldiscovery
