# stm32vldiscovery: compiler and flags for firmware/Makefile.
KIND := cortexm
CROSS := arm-none-eabi-
CPU_FLAGS := -mcpu=cortex-m3 -mthumb -mfloat-abi=soft
UART_SRC := uart_stm32f1.c
QEMU_MACHINE := stm32vldiscovery
# 2 KB of stack (of 8 KB RAM): the bit-sliced convolutions' per-block tables (2.4 KB on the
# stack, kernels/opt/bnn_bslice_opt.h) do not fit; this board keeps the dot-product kernels,
# with a smaller per-pixel patch and counts chunk (72 words, 32 channels: 3x3 taps of up to
# 256 channels; larger ones run the reference kernel). Measured: bnn_cnn_small's deepest
# stack 1,444 B; with the default patch it overflowed the former 1.5 KB reserve.
BOARD_CFLAGS := -DBNN_OPT_BSLICE=0 -DBNN_BCONV_OPT_PATCH_WORDS=72 -DBNN_BCONV_OPT_CHUNK=32
