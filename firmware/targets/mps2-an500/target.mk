# mps2-an500: compiler and flags for firmware/Makefile.
KIND := cortexm
CROSS := arm-none-eabi-
CPU_FLAGS := -mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16
UART_SRC := 
QEMU_MACHINE := mps2-an500
