# aarch64-linux: a static Linux executable (Raspberry Pi class); runs here under qemu-aarch64-static.
KIND := linux
CROSS := aarch64-linux-gnu-
CPU_FLAGS :=
QEMU_USER := qemu-aarch64-static
