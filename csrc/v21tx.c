/*
 * v21tx.c: V.21 continuous-phase FSK transmitter; see v21tx.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp_state.h"
#include "dsp_carrier.h"
#include "v21tx.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

size_t v21tx_state_size(void)
{
    return sizeof(v21tx_state_t);
}

v21tx_state_t *v21tx_init(v21tx_state_t *s, double mark_hz, double space_hz, double amp)
{
    if ((s = dsp_state_claim(s, sizeof(*s), offsetof(v21tx_state_t, allocated))) == NULL)
        return NULL;
    dsp_sin_table_init();
    s->step[1] = (uint32_t) llround(mark_hz / V21_SAMPLE_RATE * 4294967296.0);
    s->step[0] = (uint32_t) llround(space_hz / V21_SAMPLE_RATE * 4294967296.0);
    s->amp = (float) amp;
    v21tx_restart(s);
    return s;
}

void v21tx_restart(v21tx_state_t *s)
{
    s->phase = 0;
    s->clock = 0;
    s->last_bit = 1;
}

int v21tx_free(v21tx_state_t *s)
{
    if (s != NULL && s->allocated)
        free(s);
    return 0;
}

/* The sample at the current phase, then the phase moves on by one sample
 * of the bit's tone. */
static inline int16_t rotate(v21tx_state_t *s, int bit, float amp)
{
    float v = dsp_sin_u32(s->phase) * amp;
    s->phase += s->step[bit];
    return (int16_t) lrintf(v);
}

int v21tx_tx(v21tx_state_t *s, const uint8_t *bits, int nbits, int16_t *amp)
{
    int n = 0;
    for (int i = 0; i < nbits; i++) {
        int bit = bits[i] ? 1 : 0;
        do {
            amp[n++] = rotate(s, bit, s->amp);
            s->clock += V21_BAUD;
        } while (s->clock < V21_SAMPLE_RATE);
        s->clock -= V21_SAMPLE_RATE;
        s->last_bit = bit;
    }
    return n;
}

int v21tx_finish(v21tx_state_t *s, int16_t *amp)
{
    for (int i = 0; i < V21TX_RAMP_SAMPLES; i++)
        amp[i] = rotate(s, s->last_bit, s->amp * (float) (V21TX_RAMP_SAMPLES - i) / (V21TX_RAMP_SAMPLES + 1));
    v21tx_restart(s);
    return V21TX_RAMP_SAMPLES;
}
