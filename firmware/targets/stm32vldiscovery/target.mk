# stm32vldiscovery: compiler and flags for firmware/Makefile.
KIND := cortexm
CROSS := arm-none-eabi-
CPU_FLAGS := -mcpu=cortex-m3 -mthumb -mfloat-abi=soft
UART_SRC := uart_stm32f1.c
QEMU_MACHINE := stm32vldiscovery
# 1.5 KB of stack: the bit-sliced convolutions' per-block tables (2.4 KB on the stack,
# kernels/opt/bnn_bslice_opt.h) do not fit; this board keeps the dot-product kernels.
BOARD_CFLAGS := -DBNN_OPT_BSLICE=0
