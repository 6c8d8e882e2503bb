/* v29rx.h: V.29 receiver (9600, 7200, 4800 bit/s), see v29rx.c.
 *
 *   v29_rx_state_t *s = v29_rx_init(NULL, rate);      NULL on a bad rate
 *   int n = v29_rx(s, amp, len, bits)   data bits decoded from len samples;
 *                                       bits needs room for v29_rx_max_bits(len)
 *   v29_rx_carrier_present(s), v29_rx_trained(s),
 *   v29_rx_signal_power(s) (dBm0), v29_rx_snr(s) (dB at the decisions)
 *   v29_rx_free(s)
 */
#ifndef FAXENGINE_V29RX_H
#define FAXENGINE_V29RX_H

#include <stdint.h>

typedef struct v29_rx_state_s v29_rx_state_t;

v29_rx_state_t *v29_rx_init(v29_rx_state_t *s, int rate);
void v29_rx_free(v29_rx_state_t *s);
int v29_rx(v29_rx_state_t *s, const int16_t *amp, int len, uint8_t *bits);
int v29_rx_max_bits(int len);
int v29_rx_carrier_present(const v29_rx_state_t *s);
int v29_rx_trained(const v29_rx_state_t *s);
float v29_rx_signal_power(const v29_rx_state_t *s);
float v29_rx_snr(const v29_rx_state_t *s);

#endif
