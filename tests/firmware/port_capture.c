/* Test port for the host shared library: bnn_port_write() appends to a buffer that the
 * Python tests read back, so error messages can be checked. */
#include <string.h>

#include "bnn/bnn_port.h"

static char log_buf[4096];
static size_t log_len;

void bnn_port_write(const char *s)
{
    size_t n;
    if (s == NULL) {
        return;
    }
    n = strlen(s);
    if (n > sizeof log_buf - 1 - log_len) {
        n = sizeof log_buf - 1 - log_len;
    }
    memcpy(log_buf + log_len, s, n);
    log_len += n;
    log_buf[log_len] = '\0';
}

const char *bnn_test_log(void)
{
    return log_buf;
}

void bnn_test_log_clear(void)
{
    log_len = 0;
    log_buf[0] = '\0';
}
