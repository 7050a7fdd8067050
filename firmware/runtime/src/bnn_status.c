/* Status names and the error-check logger of BNN_ENSURE. */
#include "bnn/bnn_port.h"
#include "bnn/bnn_types.h"

/* Indexed by enum value (designated initializers), and the typedef below stops the build
 * when a status is added without a name. */
static const char *const bnn_status_names[] = {
    [BNN_OK] = "ok",
    [BNN_ERR_ARG] = "bad argument",
    [BNN_ERR_UNSUPPORTED] = "unsupported",
    [BNN_ERR_ARENA] = "arena too small",
    [BNN_ERR_MODEL] = "malformed model",
};
typedef char bnn_status_names_complete[
    sizeof bnn_status_names / sizeof *bnn_status_names == BNN_STATUS_COUNT ? 1 : -1];

const char *bnn_status_name(bnn_status_t status)
{
    if ((unsigned)status >= (unsigned)BNN_STATUS_COUNT) {
        return "?";
    }
    return bnn_status_names[status];
}

#ifndef BNN_STRIP_ERROR_STRINGS
/* Formats a long in decimal without printf (printf pulls kilobytes of code into an M0
 * image). buf must hold 21 bytes. */
static const char *format_long(long value, char *buf)
{
    char *end = buf + 20;
    unsigned long mag = value < 0 ? 0ul - (unsigned long)value : (unsigned long)value;
    *end = '\0';
    do {
        *--end = (char)('0' + (int)(mag % 10u));
        mag /= 10u;
    } while (mag != 0u);
    if (value < 0) {
        *--end = '-';
    }
    return end;
}
#endif

void bnn_log_check(const char *op, const char *field, long value, const char *cond)
{
#ifdef BNN_STRIP_ERROR_STRINGS
    (void)op;
    (void)field;
    (void)value;
    (void)cond;
#else
    char buf[21];
    bnn_port_write(op);
    bnn_port_write(": ");
    bnn_port_write(field);
    bnn_port_write("=");
    bnn_port_write(format_long(value, buf));
    bnn_port_write(" (check failed: ");
    bnn_port_write(cond);
    bnn_port_write(")\n");
#endif
}
