/* v29tx.h: V.29 transmitter (9600, 7200, 4800 bit/s), see v29tx.c.
 *
 *   v29_tx_state_t *s = v29_tx_init(NULL, rate, power_dbm0, tep);   NULL on a bad rate
 *   v29_tx_put_bits(s, bits, n)      queue data bits (0/1 bytes); 0 or -1 (memory)
 *   v29_tx_finish(s)                 no more data: pad, turn off
 *   int n = v29_tx(s, amp, max)      up to max samples; fewer when it needs
 *                                    more bits (or, after finish, at the end)
 *   v29_tx_restart(s, <init's arguments>)   a new transmission in the same
 *                                    memory (any rate); 0, or -1
 *   v29_tx_free(s)                    releases what init allocated; 0
 * init with s given sets up v29_tx_state_size() bytes of the caller's
 * memory instead of allocating (the lifecycle every modem of csrc/ has).
 */
#ifndef FAXENGINE_V29TX_H
#define FAXENGINE_V29TX_H

#include <stddef.h>
#include <stdint.h>

typedef struct v29_tx_state_s v29_tx_state_t;

size_t v29_tx_state_size(void);
v29_tx_state_t *v29_tx_init(v29_tx_state_t *s, int rate, float power_dbm0, int tep);
int v29_tx_restart(v29_tx_state_t *s, int rate, float power_dbm0, int tep);
int v29_tx_free(v29_tx_state_t *s);
int v29_tx_put_bits(v29_tx_state_t *s, const uint8_t *bits, int n);
void v29_tx_finish(v29_tx_state_t *s);
int v29_tx(v29_tx_state_t *s, int16_t *amp, int max);

#endif
