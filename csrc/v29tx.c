/* v29tx.c: V.29 transmitter.
 *
 * Symbols come from the training sequence (v29_common.h), then from the data
 * bits, scrambled (1 + x^-18 + x^-23, V.29 §4) and differentially encoded;
 * dsp_shaper_t pulse-shapes them with an RRC of 25 % roll-off (V.29 leaves
 * the filter open; 25 % keeps the spectrum inside the telephone band) and
 * puts them on the 1700 Hz carrier.  The symbol period is 10/3 samples.
 * After finish, 32 symbols of scrambled ones let a receiver flush its
 * equaliser, then the filter tail dies out and the transmitter stops.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp_agc.h"
#include "dsp_bitqueue.h"
#include "dsp_filter.h"
#include "scrambler.h"
#include "v29_common.h"
#include "v29tx.h"

#define V29_TX_SPAN 10
#define V29_TX_TURNOFF 32

struct v29_tx_state_s {
    int rate;
    int bps;
    int tep;
    dsp_shaper_t sh;
    scrambler_t scr;
    dsp_bitqueue_t q;
    unsigned pn;
    int step;               /* symbols sent */
    int phase;              /* absolute phase, 45-degree units */
    int finishing;
    int tail;               /* turn-off symbols sent */
    int allocated;
};

v29_tx_state_t *v29_tx_init(v29_tx_state_t *s, int rate, float power_dbm0, int tep)
{
    if (rate != 9600 && rate != 7200 && rate != 4800)
        return NULL;
    int allocated = 0;
    if (!s) {
        s = malloc(sizeof(*s));
        if (!s)
            return NULL;
        allocated = 1;
    }
    memset(s, 0, sizeof(*s));
    s->allocated = allocated;
    s->rate = rate;
    s->bps = v29_bits_per_symbol(rate);
    s->tep = tep;
    s->pn = V29_TRAINING_SEED;
    if (dsp_shaper_init(&s->sh, 10, 3, V29_TX_SPAN, 0.25f, V29_CARRIER_HZ, 1.0f) < 0) {
        if (allocated)
            free(s);
        return NULL;
    }
    s->sh.gain = sqrtf(dsp_dbm0_to_power(power_dbm0) / (v29_mean_energy(rate) * dsp_shaper_power(&s->sh)));
    return s;
}

void v29_tx_free(v29_tx_state_t *s)
{
    if (!s)
        return;
    dsp_shaper_free(&s->sh);
    dsp_bitqueue_free(&s->q);
    if (s->allocated)
        free(s);
}

int v29_tx_put_bits(v29_tx_state_t *s, const uint8_t *bits, int n)
{
    return dsp_bitqueue_put(&s->q, bits, (size_t) n);
}

void v29_tx_finish(v29_tx_state_t *s)
{
    s->finishing = 1;
}

/* One data symbol from bps bits (already scrambled). */
static cf_t data_symbol(v29_tx_state_t *s, const int *b)
{
    if (s->rate == 4800) {
        s->phase = (s->phase + v29_phase_step_4800[(b[0] << 1) | b[1]]) & 7;
        return v29_point(s->phase, 0);
    }
    int high = 0;
    const int *q = b;
    if (s->rate == 9600) {
        high = b[0];
        q = b + 1;
    }
    s->phase = (s->phase + v29_phase_step[(q[0] << 2) | (q[1] << 1) | q[2]]) & 7;
    return v29_point(s->phase, high);
}

/* The next symbol: 1 and *sym set, 0 when waiting for bits, -1 at the end. */
static int next_symbol(void *user, cf_t *sym)
{
    v29_tx_state_t *s = user;
    int b[4];
    int k = s->step - (s->tep ? V29_TEP_SYMBOLS : 0);
    if (k < 0) {
        *sym = cf(3.0f, 0.0f);
        s->step++;
        return 1;
    }
    if (k < V29_SEG1) {
        *sym = cf(0.0f, 0.0f);
    } else if (k < V29_SEG1 + V29_SEG2) {
        *sym = ((k - V29_SEG1) & 1) ? v29_alt_b(s->rate) : cf(-3.0f, 0.0f);
    } else if (k < V29_SEG1 + V29_SEG2 + V29_SEG3) {
        *sym = v29_training_bit(&s->pn) ? v29_cond_d(s->rate) : cf(3.0f, 0.0f);
        /* the differential encoding of segment 4 starts from the last C or D */
        s->phase = (sym->re > 0.0f && sym->im == 0.0f) ? 0 : (s->rate == 4800 ? 2 : 3);
    } else if (k < V29_SEG1 + V29_SEG2 + V29_SEG3 + V29_SEG4) {
        for (int i = 0; i < s->bps; i++)
            b[i] = v29_scramble(&s->scr, 1);
        *sym = data_symbol(s, b);
    } else if (dsp_bitqueue_len(&s->q) >= (size_t) s->bps || (s->finishing && dsp_bitqueue_len(&s->q) > 0)) {
        for (int i = 0; i < s->bps; i++)
            b[i] = v29_scramble(&s->scr, dsp_bitqueue_len(&s->q) ? dsp_bitqueue_get(&s->q) : 1);
        *sym = data_symbol(s, b);
    } else if (!s->finishing) {
        return 0;
    } else if (s->tail < V29_TX_TURNOFF) {
        for (int i = 0; i < s->bps; i++)
            b[i] = v29_scramble(&s->scr, 1);
        *sym = data_symbol(s, b);
        s->tail++;
    } else if (s->tail < V29_TX_TURNOFF + V29_TX_SPAN) {
        *sym = cf(0.0f, 0.0f);        /* let the filter tail out */
        s->tail++;
    } else {
        return -1;
    }
    s->step++;
    return 1;
}

int v29_tx(v29_tx_state_t *s, int16_t *amp, int max)
{
    return dsp_shaper_run(&s->sh, amp, max, next_symbol, s);
}
