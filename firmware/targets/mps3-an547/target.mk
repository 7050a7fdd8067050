# mps3-an547: compiler and flags for firmware/Makefile.
KIND := cortexm
CROSS := arm-none-eabi-
CPU_FLAGS := -mcpu=cortex-m55 -mthumb -mfloat-abi=hard
UART_SRC := 
QEMU_MACHINE := mps3-an547
