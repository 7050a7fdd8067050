# host: the developer's PC (gcc, x86-64); the fast test loop. Counts ns.
KIND := host
CROSS :=
CPU_FLAGS :=
