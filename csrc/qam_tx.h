/* qam_tx.h: what the V.29 and V.27ter transmitters share once their
 * training is sent, see qam_tx.c.
 *
 *   qam_tx_init(&t, bps, phases, step, span, beta, carrier_hz, power_dbm0, mean_energy)
 *                                 0, or -1 when out of memory
 *   qam_tx_put_bits(&t, bits, n)  queue data bits (0/1 bytes); 0 or -1 (memory)
 *   qam_tx_finish(&t)             no more data: pad, turn off
 *   qam_tx_after_training(&t, &sym, data_symbol, user)
 *                                 the next symbol once the modem's training
 *                                 is out: a dsp_shaper_run callback's answer
 *   qam_tx_free(&t)
 * The modem counts its training with t.step, sets t.data_start (the first
 * symbol after the preamble of scrambled ones) and owns t.scr.
 */
#ifndef FAXENGINE_QAM_TX_H
#define FAXENGINE_QAM_TX_H

#include <stddef.h>
#include <stdint.h>

#include "dsp_bitqueue.h"
#include "dsp_complex.h"
#include "dsp_filter.h"
#include "scrambler.h"

#define QAM_TX_TURNOFF 32       /* symbols of scrambled ones after the data */

typedef struct {
    dsp_shaper_t sh;
    dsp_bitqueue_t q;
    scrambler_t scr;
    int bps;                    /* data bits a symbol */
    int span;                   /* symbols under the filter: silence that lets its tail out */
    int step;                   /* symbols sent */
    int data_start;             /* the symbol after the training's scrambled ones */
    int finishing;
    int tail;                   /* symbols sent after the data */
} qam_tx_t;

int qam_tx_init(qam_tx_t *t, int bps, int phases, int step, int span, float beta, float carrier_hz,
                float power_dbm0, float mean_energy);
void qam_tx_free(qam_tx_t *t);
int qam_tx_put_bits(qam_tx_t *t, const uint8_t *bits, int n);
void qam_tx_finish(qam_tx_t *t);

/* The bits of one data symbol, scrambled, first one most significant: from
 * the queue, or ones when `ones` is set (preamble, turn-off) or the queue is
 * empty (the last symbol's padding). */
static inline int qam_tx_scrambled_bits(qam_tx_t *t, int ones, int (*scramble)(scrambler_t *, int))
{
    int q = 0;
    for (int i = 0; i < t->bps; i++) {
        int in = 1;
        if (!ones && dsp_bitqueue_len(&t->q))
            in = dsp_bitqueue_get(&t->q);
        q = (q << 1) | scramble(&t->scr, in);
    }
    return q;
}

/* After the training: the preamble of scrambled ones up to data_start, the
 * data while bits are queued, and after finish the turn-off ones, then
 * silence while the filter empties.  data_symbol(user, ones) makes a data
 * symbol (through qam_tx_scrambled_bits).  Returns 1 (*sym set), 0 (waiting
 * for bits) or -1 (the end), as dsp_shaper_run() wants. */
static inline int qam_tx_after_training(qam_tx_t *t, cf_t *sym, cf_t (*data_symbol)(void *user, int ones),
                                        void *user)
{
    size_t queued = dsp_bitqueue_len(&t->q);
    int after_preamble = t->step >= t->data_start;
    int data = after_preamble && (queued >= (size_t) t->bps || (t->finishing && queued > 0));
    if (after_preamble && !data) {
        if (!t->finishing)
            return 0;                           /* waiting for bits */
        if (t->tail >= QAM_TX_TURNOFF + t->span)
            return -1;                          /* the end */
        if (t->tail++ >= QAM_TX_TURNOFF) {      /* the filter's tail */
            *sym = cf(0.0f, 0.0f);
            t->step++;
            return 1;
        }
    }
    /* preamble, data or turn-off ones: one call site, so that the compiler
     * inlines the modem's mapping */
    *sym = data_symbol(user, !data);
    t->step++;
    return 1;
}

#endif
