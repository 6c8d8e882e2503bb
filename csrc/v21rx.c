/*
 * v21rx.c: V.21 FSK receiver; the method is described in v21rx.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* The two correlators (index 0 space, 1 mark) side by side: every step is
 * the same for both tones, so SSE2 does each for the pair in one
 * instruction, each lane exactly the scalar arithmetic (the plain C below
 * gives the same bits). */
#ifdef __SSE2__
typedef struct {
    __m128d lr, li, sr, si, ar, ai;     /* oscillators, their steps, window sums */
    double (*hr)[2], (*hi)[2];          /* the window's mixed samples */
} corr_t;

static inline void corr_load(corr_t *c, v21rx_state_t *s)
{
    c->lr = _mm_loadu_pd(s->lo_re);
    c->li = _mm_loadu_pd(s->lo_im);
    c->sr = _mm_loadu_pd(s->step_re);
    c->si = _mm_loadu_pd(s->step_im);
    c->ar = _mm_loadu_pd(s->sum_re);
    c->ai = _mm_loadu_pd(s->sum_im);
    c->hr = s->hist_re;
    c->hi = s->hist_im;
}

static inline void corr_store(const corr_t *c, v21rx_state_t *s)
{
    _mm_storeu_pd(s->lo_re, c->lr);
    _mm_storeu_pd(s->lo_im, c->li);
    _mm_storeu_pd(s->sum_re, c->ar);
    _mm_storeu_pd(s->sum_im, c->ai);
}

static inline void corr_step(corr_t *c, double x, int pos, double *e0, double *e1)
{
    __m128d mr = _mm_mul_pd(_mm_set1_pd(x), c->lr);
    __m128d mi = _mm_mul_pd(_mm_set1_pd(-x), c->li);
    c->ar = _mm_add_pd(c->ar, _mm_sub_pd(mr, _mm_loadu_pd(c->hr[pos])));
    c->ai = _mm_add_pd(c->ai, _mm_sub_pd(mi, _mm_loadu_pd(c->hi[pos])));
    _mm_storeu_pd(c->hr[pos], mr);
    _mm_storeu_pd(c->hi[pos], mi);
    __m128d e = _mm_add_pd(_mm_mul_pd(c->ar, c->ar), _mm_mul_pd(c->ai, c->ai));
    *e0 = _mm_cvtsd_f64(e);
    *e1 = _mm_cvtsd_f64(_mm_unpackhi_pd(e, e));
    __m128d re = _mm_sub_pd(_mm_mul_pd(c->lr, c->sr), _mm_mul_pd(c->li, c->si));
    __m128d im = _mm_add_pd(_mm_mul_pd(c->lr, c->si), _mm_mul_pd(c->li, c->sr));
    __m128d g = _mm_sub_pd(_mm_set1_pd(1.5),
                           _mm_mul_pd(_mm_set1_pd(0.5), _mm_add_pd(_mm_mul_pd(re, re), _mm_mul_pd(im, im))));
    c->lr = _mm_mul_pd(re, g);
    c->li = _mm_mul_pd(im, g);
}
#else
typedef struct {
    v21rx_state_t *s;
} corr_t;

static inline void corr_load(corr_t *c, v21rx_state_t *s)
{
    c->s = s;
}

static inline void corr_store(const corr_t *c, v21rx_state_t *s)
{
    (void) c;
    (void) s;
}

static inline void corr_step(corr_t *c, double x, int pos, double *e0, double *e1)
{
    v21rx_state_t *s = c->s;
    double e[2];
    for (int k = 0; k < 2; k++) {
        double mr = x * s->lo_re[k];
        double mi = -x * s->lo_im[k];
        s->sum_re[k] += mr - s->hist_re[pos][k];
        s->sum_im[k] += mi - s->hist_im[pos][k];
        s->hist_re[pos][k] = mr;
        s->hist_im[pos][k] = mi;
        e[k] = s->sum_re[k] * s->sum_re[k] + s->sum_im[k] * s->sum_im[k];
        double re = s->lo_re[k] * s->step_re[k] - s->lo_im[k] * s->step_im[k];
        double im = s->lo_re[k] * s->step_im[k] + s->lo_im[k] * s->step_re[k];
        double g = 1.5 - 0.5 * (re * re + im * im);
        s->lo_re[k] = re * g;
        s->lo_im[k] = im * g;
    }
    *e0 = e[0];
    *e1 = e[1];
}
#endif

/* The sample loop; amp NULL: len samples lost (v21rx_rx_fillin).  The
 * state it updates every sample lives in locals for the block: a store
 * through a pointer (the correlators' history, the bits) would otherwise
 * make the compiler reload every field of the state after it
 * (-fno-strict-aliasing).  The arithmetic is the state's own, in the same
 * order: the same bits. */
static int run(v21rx_state_t *s, const int16_t *amp, int len, uint8_t *bits)
{
    int nbits = 0;
    const double b00 = s->bq[0][0], b02 = s->bq[0][2], b03 = s->bq[0][3], b04 = s->bq[0][4];
    const double b01 = s->bq[0][1];
    const double b10 = s->bq[1][0], b11 = s->bq[1][1], b12 = s->bq[1][2], b13 = s->bq[1][3], b14 = s->bq[1][4];
    double z00 = s->bz[0][0], z01 = s->bz[0][1], z10 = s->bz[1][0], z11 = s->bz[1][1];
    const double alpha = s->power_alpha, on_level = s->on_level, off_level = s->off_level;
    double power = s->power;
    int carrier = s->carrier, crossings = s->crossings, pos = s->pos;
    corr_t c;
    corr_load(&c, s);
    double prev_d = s->prev_d, clock = s->clock;
    const double steady_gain = s->steady_gain;

    for (int i = 0; i < len; i++) {
        double x = 0.0;

        /* carrier detect; held through lost samples */
        if (amp) {
            x = amp[i];
            /* the two band-pass biquads (transposed direct form II) */
            double y0 = b00 * x + z00;
            z00 = b01 * x - b03 * y0 + z01;
            z01 = b02 * x - b04 * y0;
            double y = b10 * y0 + z10;
            z10 = b11 * y0 - b13 * y + z11;
            z11 = b12 * y0 - b14 * y;
            power += alpha * (y * y - power);
            if (carrier) {
                if (power < off_level)
                    carrier = 0;
            } else if (power > on_level) {
                carrier = 1;
                crossings = 0;
            }
        }

        /* correlators: mix each tone to 0 Hz, sum over the window; then the
         * oscillators one sample on, their amplitude held at 1 */
        double e0, e1;
        corr_step(&c, x, pos, &e0, &e1);
        if (++pos == V21RX_WINDOW)
            pos = 0;
        double d = e1 - e0;
        double prev = prev_d;
        prev_d = d;

        if (!carrier)
            continue;

        /* bit timing */
        clock += V21_BAUD;
        if (amp && (d > 0.0) != (prev > 0.0) && d != prev) {
            double frac = prev / (prev - d);            /* 0..1 from previous sample */
            double err = clock - V21_BAUD * (1.0 - frac) - 0.5 * V21_SAMPLE_RATE;
            if (err > 0.5 * V21_SAMPLE_RATE)
                err -= V21_SAMPLE_RATE;
            else if (err < -0.5 * V21_SAMPLE_RATE)
                err += V21_SAMPLE_RATE;
            double gain = crossings == 0 ? 1.0
                        : crossings < ACQUIRE_CROSSINGS ? 0.5 : steady_gain;
            clock -= gain * err;
            if (crossings < ACQUIRE_CROSSINGS)
                crossings++;
        }
        if (clock >= V21_SAMPLE_RATE) {
            /* the decision instant fell between the previous sample and this one */
            double t = 1.0 - (clock - V21_SAMPLE_RATE) / V21_BAUD;
            if (t < 0.0)
                t = 0.0;
            else if (t > 1.0)
                t = 1.0;
            double ds = prev + t * (d - prev);
            bits[nbits++] = ds > 0.0;
            clock -= V21_SAMPLE_RATE;
            if (clock >= V21_SAMPLE_RATE)
                clock = 0.0;
        }
    }
    s->bz[0][0] = z00;
    s->bz[0][1] = z01;
    s->bz[1][0] = z10;
    s->bz[1][1] = z11;
    s->power = power;
    s->carrier = carrier;
    s->crossings = crossings;
    s->pos = pos;
    corr_store(&c, s);
    s->prev_d = prev_d;
    s->clock = clock;
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
