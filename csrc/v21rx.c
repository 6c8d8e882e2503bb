/*
 * v21rx.c: V.21 FSK receiver; the method is described in v21rx.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp_state.h"
#include "v21rx.h"
#include "v21tx.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Power meter time constant: 32 samples (4 ms), quick enough for V.21 §7's
   response times, slow enough not to follow the FSK's ripple. */
#define POWER_ALPHA (1.0 / 32.0)
/* Q of each band-pass biquad: two in cascade pass 1650-1850 Hz nearly flat
   and take away about 80 % of the white noise of the 0-4 kHz band. */
#define BAND_Q 1.6
/* DPLL gains: after the first crossing (full correction) a few at 1/2 settle
   the phase within the preamble's first flags; then 1/16, which holds lock
   through noise down to 0 dB SNR without a slip. */
#define ACQUIRE_CROSSINGS 8
#define STEADY_GAIN 0.0625

static void bandpass(double c[5], double f0)
{
    /* Band-pass with 0 dB peak gain (bilinear transform of s/Q / (s^2 + s/Q + 1)). */
    double w0 = 2.0 * M_PI * f0 / V21_SAMPLE_RATE;
    double alpha = sin(w0) / (2.0 * BAND_Q);
    double a0 = 1.0 + alpha;
    c[0] = alpha / a0;
    c[1] = 0.0;
    c[2] = -alpha / a0;
    c[3] = -2.0 * cos(w0) / a0;
    c[4] = (1.0 - alpha) / a0;
}

static double gain2(const double c[5], double f)
{
    double w = 2.0 * M_PI * f / V21_SAMPLE_RATE;
    /* H(z) = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2) at z = e^jw */
    double nr = c[0] + c[1] * cos(w) + c[2] * cos(2 * w);
    double ni = -c[1] * sin(w) - c[2] * sin(2 * w);
    double dr = 1.0 + c[3] * cos(w) + c[4] * cos(2 * w);
    double di = -c[3] * sin(w) - c[4] * sin(2 * w);
    return (nr * nr + ni * ni) / (dr * dr + di * di);
}

size_t v21rx_state_size(void)
{
    return sizeof(v21rx_state_t);
}

v21rx_state_t *v21rx_init(v21rx_state_t *s, double mark_hz, double space_hz,
                          double on_level, double off_level)
{
    if ((s = dsp_state_claim(s, sizeof(*s), offsetof(v21rx_state_t, allocated))) == NULL)
        return NULL;
    s->step_re[1] = cos(2.0 * M_PI * mark_hz / V21_SAMPLE_RATE);
    s->step_im[1] = sin(2.0 * M_PI * mark_hz / V21_SAMPLE_RATE);
    s->step_re[0] = cos(2.0 * M_PI * space_hz / V21_SAMPLE_RATE);
    s->step_im[0] = sin(2.0 * M_PI * space_hz / V21_SAMPLE_RATE);
    double centre = 0.5 * (mark_hz + space_hz);
    bandpass(s->bq[0], centre);
    bandpass(s->bq[1], centre);
    s->band_gain = 0.5 * (gain2(s->bq[0], mark_hz) * gain2(s->bq[1], mark_hz)
                          + gain2(s->bq[0], space_hz) * gain2(s->bq[1], space_hz));
    s->power_alpha = POWER_ALPHA;
    s->on_level = on_level * s->band_gain;
    s->off_level = off_level * s->band_gain;
    s->steady_gain = STEADY_GAIN;
    v21rx_restart(s);
    return s;
}

void v21rx_restart(v21rx_state_t *s)
{
    for (int k = 0; k < 2; k++) {
        s->lo_re[k] = 1.0;
        s->lo_im[k] = 0.0;
        s->sum_re[k] = s->sum_im[k] = 0.0;
        s->bz[k][0] = s->bz[k][1] = 0.0;
    }
    memset(s->hist_re, 0, sizeof(s->hist_re));
    memset(s->hist_im, 0, sizeof(s->hist_im));
    s->pos = 0;
    s->power = 0.0;
    s->carrier = 0;
    s->prev_d = 0.0;
    s->clock = 0.0;
    s->crossings = 0;
    s->bits_out = 0;
}

int v21rx_free(v21rx_state_t *s)
{
    if (s != NULL && s->allocated)
        free(s);
    return 0;
}

double v21rx_power(const v21rx_state_t *s)
{
    return s->power / s->band_gain;
}

static inline double biquad(double c[5], double z[2], double x)
{
    /* transposed direct form II */
    double y = c[0] * x + z[0];
    z[0] = c[1] * x - c[3] * y + z[1];
    z[1] = c[2] * x - c[4] * y;
    return y;
}

/* The sample loop; amp NULL: len samples lost (v21rx_rx_fillin). */
static int run(v21rx_state_t *s, const int16_t *amp, int len, uint8_t *bits)
{
    int nbits = 0;
    for (int i = 0; i < len; i++) {
        double x = 0.0;

        /* carrier detect; held through lost samples */
        if (amp) {
            x = amp[i];
            double y = biquad(s->bq[1], s->bz[1], biquad(s->bq[0], s->bz[0], x));
            s->power += s->power_alpha * (y * y - s->power);
            if (s->carrier) {
                if (s->power < s->off_level)
                    s->carrier = 0;
            } else if (s->power > s->on_level) {
                s->carrier = 1;
                s->crossings = 0;
            }
        }

        /* correlators: mix each tone to 0 Hz, sum over one bit */
        double e[2];
        for (int k = 0; k < 2; k++) {
            double mr = x * s->lo_re[k];
            double mi = -x * s->lo_im[k];
            s->sum_re[k] += mr - s->hist_re[k][s->pos];
            s->sum_im[k] += mi - s->hist_im[k][s->pos];
            s->hist_re[k][s->pos] = mr;
            s->hist_im[k][s->pos] = mi;
            e[k] = s->sum_re[k] * s->sum_re[k] + s->sum_im[k] * s->sum_im[k];
            double re = s->lo_re[k] * s->step_re[k] - s->lo_im[k] * s->step_im[k];
            double im = s->lo_re[k] * s->step_im[k] + s->lo_im[k] * s->step_re[k];
            double g = 1.5 - 0.5 * (re * re + im * im);
            s->lo_re[k] = re * g;
            s->lo_im[k] = im * g;
        }
        if (++s->pos == V21RX_WINDOW)
            s->pos = 0;
        double d = e[1] - e[0];
        double prev = s->prev_d;
        s->prev_d = d;

        if (!s->carrier)
            continue;

        /* bit timing */
        s->clock += V21_BAUD;
        if (amp && (d > 0.0) != (prev > 0.0) && d != prev) {
            double frac = prev / (prev - d);            /* 0..1 from previous sample */
            double err = s->clock - V21_BAUD * (1.0 - frac) - 0.5 * V21_SAMPLE_RATE;
            if (err > 0.5 * V21_SAMPLE_RATE)
                err -= V21_SAMPLE_RATE;
            else if (err < -0.5 * V21_SAMPLE_RATE)
                err += V21_SAMPLE_RATE;
            double gain = s->crossings == 0 ? 1.0
                        : s->crossings < ACQUIRE_CROSSINGS ? 0.5 : s->steady_gain;
            s->clock -= gain * err;
            if (s->crossings < ACQUIRE_CROSSINGS)
                s->crossings++;
        }
        if (s->clock >= V21_SAMPLE_RATE) {
            /* the decision instant fell between the previous sample and this one */
            double t = 1.0 - (s->clock - V21_SAMPLE_RATE) / V21_BAUD;
            if (t < 0.0)
                t = 0.0;
            else if (t > 1.0)
                t = 1.0;
            double ds = prev + t * (d - prev);
            bits[nbits++] = ds > 0.0;
            s->clock -= V21_SAMPLE_RATE;
            if (s->clock >= V21_SAMPLE_RATE)
                s->clock = 0.0;
        }
    }
    s->bits_out += nbits;
    return nbits;
}

int v21rx_rx(v21rx_state_t *s, const int16_t *amp, int len, uint8_t *bits)
{
    return run(s, amp, len, bits);
}

int v21rx_rx_fillin(v21rx_state_t *s, int len, uint8_t *bits)
{
    return run(s, NULL, len, bits);
}
