/**
 * @file uart_nrf51.c
 * @brief UART output for nRF51 boards (microbit / nRF51822): UART0, TX on P0.24
 *        (the BBC micro:bit's USB interface chip receives it as its serial
 *        port), 115200 8N1.
 *
 * UNTESTED ON HARDWARE. Tested under QEMU (nrf51_uart model, QEMU serial0).
 */
#include <stdint.h>

#include "cortexm.h"

#define UART0_STARTTX BNN_REG(0x40002008u)
#define UART0_TXDRDY BNN_REG(0x4000211Cu)
#define UART0_ENABLE BNN_REG(0x40002500u) /* 4 = enabled */
#define UART0_PSELTXD BNN_REG(0x4000250Cu)
#define UART0_TXD BNN_REG(0x4000251Cu)
#define UART0_BAUDRATE BNN_REG(0x40002524u)

#ifndef BNN_UART_TX_PIN
#define BNN_UART_TX_PIN 24u
#endif

void bnn_uart_init(void);
void bnn_uart_putc(char c);

void bnn_uart_init(void)
{
    UART0_PSELTXD = BNN_UART_TX_PIN;
    UART0_BAUDRATE = 0x01D7E000u; /* 115200 */
    UART0_ENABLE = 4u;
    UART0_STARTTX = 1u;
}

void bnn_uart_putc(char c)
{
    UART0_TXDRDY = 0u;
    UART0_TXD = (uint32_t)(unsigned char)c;
    while (UART0_TXDRDY == 0u) {
    }
}
