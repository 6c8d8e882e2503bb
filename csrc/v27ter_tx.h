/* v27ter_tx.h: V.27ter transmitter (4800, 2400 bit/s), see v27ter_tx.c.
 *
 *   v27ter_tx_state_t *s = v27ter_tx_init(NULL, rate, power_dbm0, tep, short_train);
 *                                      NULL on a bad rate
 *   v27ter_tx_put_bits(s, bits, n)     queue data bits (0/1 bytes); 0 or -1 (memory)
 *   v27ter_tx_finish(s)                no more data: pad, turn off
 *   int n = v27ter_tx(s, amp, max)     up to max samples; fewer when it needs
 *                                      more bits (or, after finish, at the end)
 *   v27ter_tx_restart(s, <init's arguments>)   a new transmission in the same
 *                                    memory (any rate); 0, or -1
 *   v27ter_tx_free(s)                    releases what init allocated; 0
 * init with s given sets up v27ter_tx_state_size() bytes of the caller's
 * memory instead of allocating (the lifecycle every modem of csrc/ has).
 */
#ifndef FAXENGINE_V27TER_TX_H
#define FAXENGINE_V27TER_TX_H

#include <stddef.h>
#include <stdint.h>

typedef struct v27ter_tx_state_s v27ter_tx_state_t;

size_t v27ter_tx_state_size(void);
v27ter_tx_state_t *v27ter_tx_init(v27ter_tx_state_t *s, int rate, float power_dbm0, int tep, int short_train);
int v27ter_tx_restart(v27ter_tx_state_t *s, int rate, float power_dbm0, int tep, int short_train);
int v27ter_tx_free(v27ter_tx_state_t *s);
int v27ter_tx_put_bits(v27ter_tx_state_t *s, const uint8_t *bits, int n);
void v27ter_tx_finish(v27ter_tx_state_t *s);
int v27ter_tx(v27ter_tx_state_t *s, int16_t *amp, int max);

#endif
