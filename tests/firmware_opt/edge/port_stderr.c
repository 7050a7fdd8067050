/* The runtime's log sink for the host edge-case program. */
#include <stdio.h>

void bnn_port_write(const char *s)
{
    fputs(s, stderr);
}
