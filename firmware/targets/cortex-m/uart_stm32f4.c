/**
 * @file uart_stm32f4.c
 * @brief UART output for STM32F4 boards (netduinoplus2 / STM32F405): USART1, TX
 *        on PA9 (alternate function 7), 115200 8N1, from the 16 MHz HSI clock
 *        the chip runs on after reset (no PLL setup).
 *
 * UNTESTED ON HARDWARE. Tested under QEMU (stm32f2xx_usart model, QEMU serial0 =
 * USART1), which ignores the clock and pin setup. On a Netduino Plus 2, wire a
 * 3.3 V USB-serial adapter's RX to the pin carrying PA9. Change BNN_UART_BRR if
 * your clock tree differs from reset defaults (BRR = f_APB2 / baud).
 */
#include <stdint.h>

#include "cortexm.h"

#define RCC_AHB1ENR BNN_REG(0x40023830u) /* bit0 GPIOAEN */
#define RCC_APB2ENR BNN_REG(0x40023844u) /* bit4 USART1EN */
#define GPIOA_MODER BNN_REG(0x40020000u)
#define GPIOA_AFRH BNN_REG(0x40020024u)
#define USART1_SR BNN_REG(0x40011000u)  /* bit7 TXE */
#define USART1_DR BNN_REG(0x40011004u)
#define USART1_BRR BNN_REG(0x40011008u)
#define USART1_CR1 BNN_REG(0x4001100Cu) /* bit13 UE, bit3 TE */

#ifndef BNN_UART_BRR
#define BNN_UART_BRR 139u /* 16 MHz / 115200 = 138.9 */
#endif

void bnn_uart_init(void);
void bnn_uart_putc(char c);

void bnn_uart_init(void)
{
    RCC_AHB1ENR |= 1u << 0;
    RCC_APB2ENR |= 1u << 4;
    GPIOA_MODER = (GPIOA_MODER & ~(3u << 18)) | (2u << 18); /* PA9: alternate function */
    GPIOA_AFRH = (GPIOA_AFRH & ~(0xFu << 4)) | (7u << 4);  /* PA9: AF7 = USART1_TX */
    USART1_BRR = BNN_UART_BRR;
    USART1_CR1 = (1u << 13) | (1u << 3);
}

void bnn_uart_putc(char c)
{
    while ((USART1_SR & (1u << 7)) == 0u) {
    }
    USART1_DR = (uint32_t)(unsigned char)c;
}
