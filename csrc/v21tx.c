/*
 * v21tx.c: V.21 continuous-phase FSK transmitter; see v21tx.h.
 */
#include <math.h>
#include <string.h>

#include "v21tx.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

void v21tx_init(v21tx_state_t *s, double mark_hz, double space_hz, double amp)
{
    memset(s, 0, sizeof(*s));
    s->step_re[1] = cos(2.0 * M_PI * mark_hz / V21_SAMPLE_RATE);
    s->step_im[1] = sin(2.0 * M_PI * mark_hz / V21_SAMPLE_RATE);
    s->step_re[0] = cos(2.0 * M_PI * space_hz / V21_SAMPLE_RATE);
    s->step_im[0] = sin(2.0 * M_PI * space_hz / V21_SAMPLE_RATE);
    s->amp = amp;
    v21tx_restart(s);
}

void v21tx_restart(v21tx_state_t *s)
{
    s->re = 1.0;
    s->im = 0.0;
    s->clock = 0;
    s->last_bit = 1;
}

void v21tx_free(v21tx_state_t *s)
{
    (void) s;
}

static inline int16_t rotate(v21tx_state_t *s, int bit, double amp)
{
    double re = s->re * s->step_re[bit] - s->im * s->step_im[bit];
    double im = s->re * s->step_im[bit] + s->im * s->step_re[bit];
    /* Pull the magnitude back to 1 (first-order Newton step), so rounding
       never grows or shrinks the carrier. */
    double g = 1.5 - 0.5 * (re * re + im * im);
    double v = s->im * amp;
    s->re = re * g;
    s->im = im * g;
    return (int16_t) lrint(v);
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
        amp[i] = rotate(s, s->last_bit, s->amp * (V21TX_RAMP_SAMPLES - i) / (V21TX_RAMP_SAMPLES + 1));
    v21tx_restart(s);
    return V21TX_RAMP_SAMPLES;
}
