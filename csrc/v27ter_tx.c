/* v27ter_tx.c: V.27ter transmitter.
 *
 * Symbols come from the training sequence (v27ter_common.h), then from the
 * data bits, scrambled with the guard and differentially encoded
 * (qam_diff.h); qam_tx.c queues the bits, ends the transmission and puts
 * the symbols through the 50 % RRC onto the 1800 Hz carrier (5 samples a
 * symbol at 1600 baud, 20/3 at 1200 baud).
 */
#include <stdlib.h>
#include <string.h>

#include "dsp_state.h"
#include "qam_diff.h"
#include "qam_tx.h"
#include "v27ter_common.h"
#include "v27ter_tx.h"

#define V27TER_TX_SPAN 8

struct v27ter_tx_state_s {
    qam_tx_t t;
    const int *steps;             /* every bit codes the phase: tribits at 4800 bit/s, dibits at 2400 */
    int seg1, seg2, seg3, seg4;   /* segment ends, in symbols */
    int phase;
    int allocated;
};

v27ter_tx_state_t *v27ter_tx_init(v27ter_tx_state_t *s, int rate, float power_dbm0, int tep, int short_train)
{
    if (rate != 4800 && rate != 2400)
        return NULL;
    if ((s = dsp_state_claim(s, sizeof(*s), offsetof(v27ter_tx_state_t, allocated))) == NULL)
        return NULL;
    s->steps = qam_phase_steps(v27ter_bits_per_symbol(rate));
    float baud = v27ter_baud(rate);
    s->seg1 = tep ? (int) (0.190f * baud) : 0;                  /* 190 ms */
    s->seg2 = s->seg1 + (int) (0.020f * baud);                  /* 20 ms */
    s->seg3 = s->seg2 + (short_train ? V27TER_SEG3_SHORT : V27TER_SEG3_LONG);
    s->seg4 = s->seg3 + (short_train ? V27TER_SEG4_SHORT : V27TER_SEG4_LONG);
    /* 8000/1600 = 5/1 samples a symbol, 8000/1200 = 20/3; PSK points have unit energy */
    int phases = rate == 4800 ? 5 : 20, step = rate == 4800 ? 1 : 3;
    if (qam_tx_init(&s->t, v27ter_bits_per_symbol(rate), phases, step, V27TER_TX_SPAN, 0.5f, V27TER_CARRIER_HZ,
                    power_dbm0, 1.0f) < 0) {
        if (s->allocated)
            free(s);
        return NULL;
    }
    s->t.scr.reg = V27TER_TRAINING_SEED;
    s->t.data_start = s->seg4 + V27TER_SEG5;
    return s;
}

size_t v27ter_tx_state_size(void)
{
    return sizeof(v27ter_tx_state_t);
}

/* A new transmission in the same memory: the shaper's table and the bit
 * queue are made again (the rate may change the symbol rate). */
int v27ter_tx_restart(v27ter_tx_state_t *s, int rate, float power_dbm0, int tep, int short_train)
{
    if (rate != 4800 && rate != 2400)
        return -1;
    int allocated = s->allocated;
    qam_tx_free(&s->t);
    v27ter_tx_state_t *done = v27ter_tx_init(s, rate, power_dbm0, tep, short_train);
    s->allocated = allocated;
    return done ? 0 : -1;
}

int v27ter_tx_free(v27ter_tx_state_t *s)
{
    if (!s)
        return 0;
    qam_tx_free(&s->t);
    if (s->allocated)
        free(s);
    return 0;
}

int v27ter_tx_put_bits(v27ter_tx_state_t *s, const uint8_t *bits, int n)
{
    return qam_tx_put_bits(&s->t, bits, n);
}

void v27ter_tx_finish(v27ter_tx_state_t *s)
{
    qam_tx_finish(&s->t);
}

static cf_t data_symbol(void *user, int ones)
{
    v27ter_tx_state_t *s = user;
    int q = qam_tx_scrambled_bits(&s->t, ones, v27ter_scramble);
    s->phase = qam_diff_next_phase(s->phase, q, s->steps);
    return v27ter_point(s->phase);
}

static int next_symbol(void *user, cf_t *sym)
{
    v27ter_tx_state_t *s = user;
    int k = s->t.step;
    if (k < s->seg1) {
        *sym = v27ter_point(0);
    } else if (k < s->seg2) {
        *sym = cf(0.0f, 0.0f);
    } else if (k < s->seg3) {
        s->phase = (s->phase + 4) & 7;
        *sym = v27ter_point(s->phase);
    } else if (k < s->seg4) {
        s->phase = (s->phase + 4 * v27ter_training_reversal(&s->t.scr)) & 7;
        *sym = v27ter_point(s->phase);
    } else {
        return qam_tx_after_training(&s->t, sym, data_symbol, s);
    }
    s->t.step++;
    return 1;
}

int v27ter_tx(v27ter_tx_state_t *s, int16_t *amp, int max)
{
    return dsp_shaper_run(&s->t.sh, amp, max, next_symbol, s);
}
