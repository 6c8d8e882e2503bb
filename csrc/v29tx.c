/* v29tx.c: V.29 transmitter.
 *
 * Symbols come from the training sequence (v29_common.h), then from the data
 * bits, scrambled (1 + x^-18 + x^-23, V.29 §4) and differentially encoded
 * (qam_diff.h).  qam_tx.c queues the bits, ends the transmission and
 * pulse-shapes with an RRC of 25 % roll-off (V.29 leaves the filter open;
 * 25 % keeps the spectrum inside the telephone band) on the 1700 Hz
 * carrier.  The symbol period is 10/3 samples.
 */
#include <stdlib.h>
#include <string.h>

#include "dsp_state.h"
#include "qam_diff.h"
#include "qam_tx.h"
#include "v29_common.h"
#include "v29tx.h"

#define V29_TX_SPAN 10

struct v29_tx_state_s {
    qam_tx_t t;
    int rate;
    int tep;
    const int *steps;       /* phase steps: of dibits at 4800 bit/s, else of tribits */
    cf_t points[16];        /* v29_point(phase, Q1) at phase | Q1 << 3, tabulated once */
    unsigned pn;            /* segment 3 generator */
    int phase;              /* absolute phase, 45-degree units */
    int allocated;
};

v29_tx_state_t *v29_tx_init(v29_tx_state_t *s, int rate, float power_dbm0, int tep)
{
    if (rate != 9600 && rate != 7200 && rate != 4800)
        return NULL;
    if ((s = dsp_state_claim(s, sizeof(*s), offsetof(v29_tx_state_t, allocated))) == NULL)
        return NULL;
    s->rate = rate;
    s->tep = tep;
    s->steps = qam_phase_steps(rate == 4800 ? 2 : 3);
    for (int i = 0; i < 16; i++)
        s->points[i] = v29_point(i & 7, i >> 3);
    s->pn = V29_TRAINING_SEED;
    if (qam_tx_init(&s->t, v29_bits_per_symbol(rate), 10, 3, V29_TX_SPAN, 0.25f, V29_CARRIER_HZ, power_dbm0,
                    v29_mean_energy(rate)) < 0) {
        if (s->allocated)
            free(s);
        return NULL;
    }
    s->t.data_start = (tep ? V29_TEP_SYMBOLS : 0) + V29_SEG1 + V29_SEG2 + V29_SEG3 + V29_SEG4;
    return s;
}

size_t v29_tx_state_size(void)
{
    return sizeof(v29_tx_state_t);
}

/* A new transmission in the same memory: the shaper's table and the bit
 * queue are made again (the rate may change the symbol rate). */
int v29_tx_restart(v29_tx_state_t *s, int rate, float power_dbm0, int tep)
{
    if (rate != 9600 && rate != 7200 && rate != 4800)
        return -1;
    int allocated = s->allocated;
    qam_tx_free(&s->t);
    v29_tx_state_t *done = v29_tx_init(s, rate, power_dbm0, tep);
    s->allocated = allocated;
    return done ? 0 : -1;
}

int v29_tx_free(v29_tx_state_t *s)
{
    if (!s)
        return 0;
    qam_tx_free(&s->t);
    if (s->allocated)
        free(s);
    return 0;
}

int v29_tx_put_bits(v29_tx_state_t *s, const uint8_t *bits, int n)
{
    return qam_tx_put_bits(&s->t, bits, n);
}

void v29_tx_finish(v29_tx_state_t *s)
{
    qam_tx_finish(&s->t);
}

/* One data symbol: bps bits scrambled; at 9600 bit/s the first, Q1, is the
 * amplitude (q >> 3; 0 at the other rates), the rest the phase change. */
static cf_t data_symbol(void *user, int ones)
{
    v29_tx_state_t *s = user;
    int q = qam_tx_scrambled_bits(&s->t, ones, v29_scramble);
    s->phase = qam_diff_next_phase(s->phase, q, s->steps);
    return s->points[s->phase | (q >> 3) << 3];
}

/* The next symbol: 1 and *sym set, 0 when waiting for bits, -1 at the end. */
static int next_symbol(void *user, cf_t *sym)
{
    v29_tx_state_t *s = user;
    int k = s->t.step - (s->tep ? V29_TEP_SYMBOLS : 0);
    if (k < 0) {
        *sym = cf(3.0f, 0.0f);
    } else if (k < V29_SEG1) {
        *sym = cf(0.0f, 0.0f);
    } else if (k < V29_SEG1 + V29_SEG2) {
        *sym = ((k - V29_SEG1) & 1) ? v29_alt_b(s->rate) : cf(-3.0f, 0.0f);
    } else if (k < V29_SEG1 + V29_SEG2 + V29_SEG3) {
        *sym = v29_training_bit(&s->pn) ? v29_cond_d(s->rate) : cf(3.0f, 0.0f);
        /* the differential encoding of segment 4 starts from the last C or D */
        s->phase = (sym->re > 0.0f && sym->im == 0.0f) ? 0 : (s->rate == 4800 ? 2 : 3);
    } else {
        return qam_tx_after_training(&s->t, sym, data_symbol, s);
    }
    s->t.step++;
    return 1;
}

int v29_tx(v29_tx_state_t *s, int16_t *amp, int max)
{
    return dsp_shaper_run(&s->t.sh, amp, max, next_symbol, s);
}
