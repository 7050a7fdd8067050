# netduinoplus2: compiler and flags for firmware/Makefile.
KIND := cortexm
CROSS := arm-none-eabi-
CPU_FLAGS := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
UART_SRC := uart_stm32f4.c
QEMU_MACHINE := netduinoplus2
