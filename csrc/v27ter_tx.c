/* v27ter_tx.c: V.27ter transmitter.
 *
 * Symbols come from the training sequence (v27ter_common.h), then from the
 * data bits, scrambled with the guard and differentially encoded; the 50 %
 * RRC of dsp_shaper_t puts them on the 1800 Hz carrier (5 samples a symbol
 * at 1600 baud, 20/3 at 1200 baud).  After finish, 32 symbols of scrambled
 * ones let a receiver flush its equaliser, then the filter tail dies out.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp_agc.h"
#include "dsp_bitqueue.h"
#include "dsp_filter.h"
#include "v27ter_common.h"
#include "v27ter_tx.h"

#define V27TER_TX_SPAN 8
#define V27TER_TX_TURNOFF 32

struct v27ter_tx_state_s {
    int rate;
    int bps;
    int seg1, seg2, seg3, seg4;   /* segment ends, in symbols */
    dsp_shaper_t sh;
    scrambler_t scr;
    dsp_bitqueue_t q;
    int step;
    int phase;
    int finishing;
    int tail;
    int allocated;
};

v27ter_tx_state_t *v27ter_tx_init(v27ter_tx_state_t *s, int rate, float power_dbm0, int tep, int short_train)
{
    if (rate != 4800 && rate != 2400)
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
    s->bps = v27ter_bits_per_symbol(rate);
    float baud = v27ter_baud(rate);
    s->seg1 = tep ? (int) (0.190f * baud) : 0;                  /* 190 ms */
    s->seg2 = s->seg1 + (int) (0.020f * baud);                  /* 20 ms */
    s->seg3 = s->seg2 + (short_train ? V27TER_SEG3_SHORT : V27TER_SEG3_LONG);
    s->seg4 = s->seg3 + (short_train ? V27TER_SEG4_SHORT : V27TER_SEG4_LONG);
    s->scr.reg = V27TER_TRAINING_SEED;
    int ok = rate == 4800 ? dsp_shaper_init(&s->sh, 5, 1, V27TER_TX_SPAN, 0.5f, V27TER_CARRIER_HZ, 1.0f)
                          : dsp_shaper_init(&s->sh, 20, 3, V27TER_TX_SPAN, 0.5f, V27TER_CARRIER_HZ, 1.0f);
    if (ok < 0) {
        if (allocated)
            free(s);
        return NULL;
    }
    s->sh.gain = sqrtf(dsp_dbm0_to_power(power_dbm0) / dsp_shaper_power(&s->sh));
    return s;
}

void v27ter_tx_free(v27ter_tx_state_t *s)
{
    if (!s)
        return;
    dsp_shaper_free(&s->sh);
    dsp_bitqueue_free(&s->q);
    if (s->allocated)
        free(s);
}

int v27ter_tx_put_bits(v27ter_tx_state_t *s, const uint8_t *bits, int n)
{
    return dsp_bitqueue_put(&s->q, bits, (size_t) n);
}

void v27ter_tx_finish(v27ter_tx_state_t *s)
{
    s->finishing = 1;
}

/* A data symbol; take() gives each bit before scrambling. */
static cf_t data_symbol(v27ter_tx_state_t *s, int ones)
{
    int b[3];
    for (int i = 0; i < s->bps; i++) {
        int in = 1;
        if (!ones && dsp_bitqueue_len(&s->q))
            in = dsp_bitqueue_get(&s->q);
        b[i] = v27ter_scramble(&s->scr, in);
    }
    if (s->rate == 4800)
        s->phase += v27ter_phase_step_4800[(b[0] << 2) | (b[1] << 1) | b[2]];
    else
        s->phase += v27ter_phase_step_2400[(b[0] << 1) | b[1]];
    s->phase &= 7;
    return v27ter_point(s->phase);
}

static int next_symbol(void *user, cf_t *sym)
{
    v27ter_tx_state_t *s = user;
    int k = s->step;
    if (k < s->seg1) {
        *sym = v27ter_point(0);
    } else if (k < s->seg2) {
        *sym = cf(0.0f, 0.0f);
    } else if (k < s->seg3) {
        s->phase = (s->phase + 4) & 7;
        *sym = v27ter_point(s->phase);
    } else if (k < s->seg4) {
        s->phase = (s->phase + 4 * v27ter_training_reversal(&s->scr)) & 7;
        *sym = v27ter_point(s->phase);
    } else if (k < s->seg4 + V27TER_SEG5) {
        *sym = data_symbol(s, 1);
    } else if (dsp_bitqueue_len(&s->q) >= (size_t) s->bps || (s->finishing && dsp_bitqueue_len(&s->q) > 0)) {
        *sym = data_symbol(s, 0);
    } else if (!s->finishing) {
        return 0;
    } else if (s->tail < V27TER_TX_TURNOFF) {
        *sym = data_symbol(s, 1);
        s->tail++;
    } else if (s->tail < V27TER_TX_TURNOFF + V27TER_TX_SPAN) {
        *sym = cf(0.0f, 0.0f);
        s->tail++;
    } else {
        return -1;
    }
    s->step++;
    return 1;
}

int v27ter_tx(v27ter_tx_state_t *s, int16_t *amp, int max)
{
    return dsp_shaper_run(&s->sh, amp, max, next_symbol, s);
}
