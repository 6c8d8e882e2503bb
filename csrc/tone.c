/*
 * tone.c: cadenced tone generator and Goertzel tone detector; see tone.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp_state.h"
#include "tone.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

size_t tone_gen_state_size(void)
{
    return sizeof(tone_gen_state_t);
}

tone_gen_state_t *tone_gen_init(tone_gen_state_t *s, double freq, double amp,
                                int64_t pre, int64_t on, int64_t off, int repeat)
{
    if ((s = dsp_state_claim(s, sizeof(*s), offsetof(tone_gen_state_t, allocated))) == NULL)
        return NULL;
    s->re = 1.0;
    s->step_re = cos(2.0 * M_PI * freq / TONE_SAMPLE_RATE);
    s->step_im = sin(2.0 * M_PI * freq / TONE_SAMPLE_RATE);
    s->amp = amp;
    s->pre = pre;
    s->on = on;
    s->off = off;
    s->repeat = repeat;
    return s;
}

void tone_gen_restart(tone_gen_state_t *s)
{
    s->re = 1.0;
    s->im = 0.0;
    s->t = 0;
}

int tone_gen_free(tone_gen_state_t *s)
{
    if (s != NULL && s->allocated)
        free(s);
    return 0;
}

int tone_gen_done(const tone_gen_state_t *s)
{
    return !s->repeat && s->t >= s->pre + s->on + s->off;
}

int tone_gen(tone_gen_state_t *s, int16_t *amp, int len)
{
    /* The place in the cadence is kept from sample to sample, not worked
     * out again: a 64-bit division per sample cost more than the tone.
     * u < 0 or u >= on: silence (before the first burst, between bursts,
     * after a tone that does not repeat). */
    const int64_t period = s->on + s->off, on = s->on;
    const int cycle = s->repeat && period > 0;
    const double step_re = s->step_re, step_im = s->step_im, peak = s->amp;
    double re = s->re, im = s->im;
    int64_t r = s->t - s->pre;              /* time since the leading silence */
    int64_t u = r < 0 ? r : cycle ? r % period : r >= period ? -1 : r;
    for (int i = 0; i < len; i++) {
        if (u < 0 || u >= on) {
            amp[i] = 0;
            re = 1.0;                       /* each burst starts at phase 0 */
            im = 0.0;
        } else {
            double gain = 1.0;
            if (u < TONE_RAMP_SAMPLES)
                gain = (double) (u + 1) / (TONE_RAMP_SAMPLES + 1);
            else if (on - u <= TONE_RAMP_SAMPLES)
                gain = (double) (on - u) / (TONE_RAMP_SAMPLES + 1);
            amp[i] = (int16_t) lrint(peak * gain * im);
            double nre = re * step_re - im * step_im;
            double nim = re * step_im + im * step_re;
            double g = 1.5 - 0.5 * (nre * nre + nim * nim);
            re = nre * g;
            im = nim * g;
        }
        r++;
        if (r < 0)
            u = r;
        else if (cycle)
            u = u + 1 >= period ? 0 : u + 1;
        else
            u = r >= period ? -1 : r;
    }
    s->t += len;
    s->re = re;
    s->im = im;
    return len;
}

/* Goertzel bins: CNG at 1100 Hz and ±30 Hz, CED at 2100 Hz and ±30 Hz,
   V.21 channel 2 on a 100 Hz grid (orthogonal over 10 ms) through its mark
   and space tones, wide enough for the sidebands of changing bits (a 0101...
   pattern puts its power at 1600 and 1900 Hz). */
static const double bin_hz[TONE_BINS] = {1070.0, 1100.0, 1130.0, 2070.0, 2100.0, 2130.0,
                                         1550.0, 1650.0, 1750.0, 1850.0, 1950.0};
/* Share of the block's power its tone must hold.  Measured: a pure tone
   gives 0.97 or more anywhere in its tolerance, V.21 (any data) 0.9 or more;
   white noise stays under 0.35 in the five V.21 bins and 0.15 in a tone
   bin, speech and broadband modem signals well below these thresholds. */
static const double min_ratio[TONE_KINDS] = {0.6, 0.6, 0.7};

size_t tone_det_state_size(void)
{
    return sizeof(tone_det_state_t);
}

tone_det_state_t *tone_det_init(tone_det_state_t *s, double min_power, const int qualify_ms[TONE_KINDS])
{
    if ((s = dsp_state_claim(s, sizeof(*s), offsetof(tone_det_state_t, allocated))) == NULL)
        return NULL;
    for (int b = 0; b < TONE_BINS; b++)
        s->coef[b] = 2.0 * cos(2.0 * M_PI * bin_hz[b] / TONE_SAMPLE_RATE);
    s->min_energy = min_power * TONE_BLOCK;
    for (int k = 0; k < TONE_KINDS; k++) {
        s->min_ratio[k] = min_ratio[k];
        s->qualify_blocks[k] = (qualify_ms[k] * (TONE_SAMPLE_RATE / 1000) + TONE_BLOCK - 1) / TONE_BLOCK;
    }
    return s;
}

void tone_det_restart(tone_det_state_t *s)
{
    memset(s->s1, 0, sizeof(s->s1));
    memset(s->s2, 0, sizeof(s->s2));
    s->energy = 0.0;
    s->n = 0;
    s->t = 0;
    memset(s->run, 0, sizeof(s->run));
    memset(s->gap, 0, sizeof(s->gap));
    memset(s->reported, 0, sizeof(s->reported));
    memset(s->start, 0, sizeof(s->start));
    memset(s->last, 0, sizeof(s->last));
}

int tone_det_free(tone_det_state_t *s)
{
    if (s != NULL && s->allocated)
        free(s);
    return 0;
}

int tone_det_present(const tone_det_state_t *s, int kind)
{
    return s->reported[kind];
}

static double max3(double a, double b, double c)
{
    double m = a > b ? a : b;
    return m > c ? m : c;
}

/* One block done: decide which tones it holds and update their runs. */
static int end_block(tone_det_state_t *s, tone_event_t *ev)
{
    double p[TONE_BINS];
    int nev = 0;
    for (int b = 0; b < TONE_BINS; b++) {
        p[b] = s->s1[b] * s->s1[b] + s->s2[b] * s->s2[b] - s->coef[b] * s->s1[b] * s->s2[b];
        s->s1[b] = s->s2[b] = 0.0;
    }
    /* A tone of amplitude A gives |X|^2 = (A N / 2)^2 in its bin and
       energy N A^2 / 2, so the share is |X|^2 / (N / 2 * energy). */
    double norm = s->energy * TONE_BLOCK * 0.5;
    double share[TONE_KINDS];
    share[TONE_CNG] = max3(p[0], p[1], p[2]);
    share[TONE_CED] = max3(p[3], p[4], p[5]);
    share[TONE_V21] = p[6] + p[7] + p[8] + p[9] + p[10];
    int loud = s->energy >= s->min_energy;
    int64_t block_start = s->t - TONE_BLOCK;

    for (int k = 0; k < TONE_KINDS; k++) {
        int hit = loud && share[k] >= s->min_ratio[k] * norm;
        if (hit) {
            if (s->run[k] == 0)
                s->start[k] = block_start;
            s->run[k] += 1 + s->gap[k];     /* a bridged gap counts as tone */
            s->gap[k] = 0;
            s->last[k] = s->t;
            if (!s->reported[k] && s->run[k] >= s->qualify_blocks[k]) {
                s->reported[k] = 1;
                ev[nev].kind = k;
                ev[nev].end = 0;
                ev[nev].start_sample = s->start[k];
                ev[nev].end_sample = -1;
                nev++;
            }
        } else if (s->run[k] > 0) {
            if (++s->gap[k] > TONE_MAX_GAP) {
                if (s->reported[k]) {
                    ev[nev].kind = k;
                    ev[nev].end = 1;
                    ev[nev].start_sample = s->start[k];
                    ev[nev].end_sample = s->last[k];
                    nev++;
                }
                s->run[k] = 0;
                s->gap[k] = 0;
                s->reported[k] = 0;
            }
        }
    }
    s->energy = 0.0;
    s->n = 0;
    return nev;
}

int tone_det_rx(tone_det_state_t *s, const int16_t *amp, int len, tone_event_t *events)
{
    int nev = 0;
    for (int i = 0; i < len; i++) {
        double x = amp[i];
        s->energy += x * x;
        for (int b = 0; b < TONE_BINS; b++) {
            double v = x + s->coef[b] * s->s1[b] - s->s2[b];
            s->s2[b] = s->s1[b];
            s->s1[b] = v;
        }
        s->t++;
        if (++s->n == TONE_BLOCK)
            nev += end_block(s, events + nev);
    }
    return nev;
}
