/* v27ter_rx.h: V.27ter receiver (4800, 2400 bit/s, long training), see v27ter_rx.c.
 *
 *   v27ter_rx_state_t *s = v27ter_rx_init(NULL, rate);  NULL on a bad rate or
 *                                         out of memory; with s given, sets up
 *                                         v27ter_rx_state_size() bytes of the
 *                                         caller's memory instead
 *   v27ter_rx_restart(s, rate)            as init leaves it, in the same memory
 *                                         (and buffers, at the same rate); 0, or -1
 *   int n = v27ter_rx(s, amp, len, bits)  data bits decoded from len samples;
 *                                         bits needs room for v27ter_rx_max_bits(len)
 *   int n = v27ter_rx_fillin(s, len, bits)   len samples lost: see dsp_qamrx_rx_fillin
 *   v27ter_rx_core(s)                       carrier, training, level and SNR
 *                                       through dsp_qamrx.h's getters
 *   v27ter_rx_free(s)                       releases what init allocated; 0
 * (the lifecycle every modem of csrc/ has, as spandsp's).
 */
#ifndef FAXENGINE_V27TER_RX_H
#define FAXENGINE_V27TER_RX_H

#include <stddef.h>
#include <stdint.h>

typedef struct v27ter_rx_state_s v27ter_rx_state_t;

size_t v27ter_rx_state_size(void);
v27ter_rx_state_t *v27ter_rx_init(v27ter_rx_state_t *s, int rate);
int v27ter_rx_restart(v27ter_rx_state_t *s, int rate);
int v27ter_rx_free(v27ter_rx_state_t *s);
int v27ter_rx(v27ter_rx_state_t *s, const int16_t *amp, int len, uint8_t *bits);
/* len samples lost (a missing packet): timing and carrier move on, the
 * carrier is kept, no loop adapts; the bits decided on the hole go to bits
 * (room for v27ter_rx_max_bits(len)); see dsp_qamrx_rx_fillin */
int v27ter_rx_fillin(v27ter_rx_state_t *s, int len, uint8_t *bits);
int v27ter_rx_max_bits(int len);
/* the receiver core, for dsp_qamrx_carrier_present(), _trained(),
 * _signal_power_dbm0() and _snr_db() (dsp_qamrx.h) */
const struct dsp_qamrx_s *v27ter_rx_core(const v27ter_rx_state_t *s);

#endif
