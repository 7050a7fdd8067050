/**
 * @file uart_stm32f1.c
 * @brief UART output for STM32F1 boards (stm32vldiscovery / STM32F100RB):
 *        USART1, TX on PA9 (alternate function push-pull), 115200 8N1, from the
 *        8 MHz HSI clock the chip runs on after reset.
 *
 * UNTESTED ON HARDWARE. Tested under QEMU (QEMU serial0 = USART1), which ignores
 * the clock and pin setup. On the STM32VLDISCOVERY, PA9 is on header P2; wire a
 * 3.3 V USB-serial adapter's RX to it. BRR = f_APB2 / baud.
 */
#include <stdint.h>

#include "cortexm.h"

#define RCC_APB2ENR BNN_REG(0x40021018u) /* bit2 IOPAEN, bit14 USART1EN */
#define GPIOA_CRH BNN_REG(0x40010804u)
#define USART1_SR BNN_REG(0x40013800u)  /* bit7 TXE */
#define USART1_DR BNN_REG(0x40013804u)
#define USART1_BRR BNN_REG(0x40013808u)
#define USART1_CR1 BNN_REG(0x4001380Cu) /* bit13 UE, bit3 TE */

#ifndef BNN_UART_BRR
#define BNN_UART_BRR 69u /* 8 MHz / 115200 = 69.4 */
#endif

void bnn_uart_init(void);
void bnn_uart_putc(char c);

void bnn_uart_init(void)
{
    RCC_APB2ENR |= (1u << 2) | (1u << 14);
    GPIOA_CRH = (GPIOA_CRH & ~(0xFu << 4)) | (0xBu << 4); /* PA9: AF push-pull, 50 MHz */
    USART1_BRR = BNN_UART_BRR;
    USART1_CR1 = (1u << 13) | (1u << 3);
}

void bnn_uart_putc(char c)
{
    while ((USART1_SR & (1u << 7)) == 0u) {
    }
    USART1_DR = (uint32_t)(unsigned char)c;
}
