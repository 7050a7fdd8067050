# armv7-linux: a static Linux executable (ARMv7-A, hard float); runs here under qemu-arm-static.
KIND := linux
CROSS := arm-linux-gnueabihf-
CPU_FLAGS := -march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard
QEMU_USER := qemu-arm-static
