/* dsp_filter.c: RRC pulse shaping (transmit) and the complex band-pass,
 * fractionally delayed front end (receive).  See dsp_filter.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp_filter.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

float dsp_rrc(float t, float beta)
{
    double x = t;
    double b = beta;
    if (fabs(x) < 1e-7)
        return (float) (1.0 - b + 4.0 * b / M_PI);
    if (b > 0.0 && fabs(fabs(x) - 1.0 / (4.0 * b)) < 1e-7)
        return (float) (b / sqrt(2.0) * ((1.0 + 2.0 / M_PI) * sin(M_PI / (4.0 * b))
                                         + (1.0 - 2.0 / M_PI) * cos(M_PI / (4.0 * b))));
    double num = sin(M_PI * x * (1.0 - b)) + 4.0 * b * x * cos(M_PI * x * (1.0 + b));
    double den = M_PI * x * (1.0 - (4.0 * b * x) * (4.0 * b * x));
    return (float) (num / den);
}

/* Flat over the middle of the span, a raised-cosine taper over its outer
 * quarters: the pulse stays an RRC where it matters (no ISI at the symbol
 * instants) while its truncated tails end smoothly. */
static double span_window(double t, double half)
{
    double a = fabs(t) / half;
    if (a >= 1.0)
        return 0.0;
    if (a <= 0.75)
        return 1.0;
    return 0.5 + 0.5 * cos(M_PI * (a - 0.75) / 0.25);
}

static int gcd(int a, int b)
{
    while (b) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int dsp_shaper_init(dsp_shaper_t *s, int phases, int step, int span, float beta,
                    float carrier_hz, float gain)
{
    memset(s, 0, sizeof(*s));
    s->phases = phases;
    s->step = step;
    s->span = span;
    s->gain = gain;
    s->coef = calloc((size_t) span * phases, sizeof(float));
    s->hist = calloc((size_t) 2 * span, sizeof(cf_t));
    int hz = (int) lrintf(carrier_hz);
    s->carrier_period = 8000 / gcd(hz, 8000);
    s->cos_tab = malloc(sizeof(float) * s->carrier_period);
    s->sin_tab = malloc(sizeof(float) * s->carrier_period);
    if (!s->coef || !s->hist || !s->cos_tab || !s->sin_tab) {
        dsp_shaper_free(s);
        return -1;
    }
    for (int i = 0; i < s->carrier_period; i++) {
        double a = 2.0 * M_PI * hz * i / 8000.0;
        s->cos_tab[i] = (float) cos(a);
        s->sin_tab[i] = (float) sin(a);
    }
    /* coef[ph][k] = h((k*P + ph)/P - span/2) in symbol periods: the pulse of the
     * symbol k periods old, at fraction ph/P of the current period. */
    double half = span / 2.0;
    for (int ph = 0; ph < phases; ph++)
        for (int k = 0; k < span; k++) {
            double t = (k * phases + ph) / (double) phases - half;
            s->coef[ph * span + k] = (float) (dsp_rrc((float) t, beta) * span_window(t, half));
        }
    s->phase = phases;      /* the first sample needs a symbol */
    s->pos = 0;
    return 0;
}

void dsp_shaper_free(dsp_shaper_t *s)
{
    free(s->coef);
    free(s->hist);
    free(s->cos_tab);
    free(s->sin_tab);
    s->coef = NULL;
    s->hist = NULL;
    s->cos_tab = s->sin_tab = NULL;
}

void dsp_shaper_push(dsp_shaper_t *s, cf_t sym)
{
    /* newest first: hist[pos] is the newest, hist[pos+k] k symbols older */
    if (--s->pos < 0)
        s->pos = s->span - 1;
    s->hist[s->pos] = sym;
    s->hist[s->pos + s->span] = sym;
    s->phase -= s->phases;
}

int16_t dsp_shaper_sample(dsp_shaper_t *s)
{
    const float *c = s->coef + s->phase * s->span;
    const cf_t *h = s->hist + s->pos;
    float re = 0.0f, im = 0.0f;
    for (int k = 0; k < s->span; k++) {
        re += h[k].re * c[k];
        im += h[k].im * c[k];
    }
    /* s(n) = I cos(wn) - Q sin(wn) */
    float y = s->gain * (re * s->cos_tab[s->carrier_pos] - im * s->sin_tab[s->carrier_pos]);
    if (++s->carrier_pos >= s->carrier_period)
        s->carrier_pos = 0;
    s->phase += s->step;
    long v = lrintf(y);
    if (v > 32767)
        v = 32767;
    else if (v < -32768)
        v = -32768;
    return (int16_t) v;
}

float dsp_shaper_power(const dsp_shaper_t *s)
{
    /* E[y^2] = E|sym|^2 * sum(h^2) / (2 P) for unit gain */
    double acc = 0.0;
    for (int i = 0; i < s->span * s->phases; i++)
        acc += (double) s->coef[i] * s->coef[i];
    return (float) (acc / (2.0 * s->phases));
}

int dsp_bandpass_init(dsp_bandpass_t *s, float sps, int span, float beta, float carrier_hz, int phases)
{
    memset(s, 0, sizeof(*s));
    s->taps = (int) ceil(span * sps);
    s->phases = phases;
    size_t n = (size_t) (phases + 1) * s->taps;
    s->coef_re = malloc(n * sizeof(float));
    s->coef_im = malloc(n * sizeof(float));
    s->buf = calloc((size_t) 2 * s->taps + 1, sizeof(float));
    if (!s->coef_re || !s->coef_im || !s->buf) {
        dsp_bandpass_free(s);
        return -1;
    }
    double half = s->taps / 2.0;
    double w = 2.0 * M_PI * carrier_hz / 8000.0;
    /* Gain 2/sps: a unit symbol through TX RRC and this RRC gives unit output. */
    double norm = 2.0 / sps;
    for (int p = 0; p <= phases; p++) {
        double mu = (double) p / phases;
        for (int i = 0; i < s->taps; i++) {
            double tau = i + mu;                       /* age of input sample x[m-i] at time m+mu */
            double tc = tau - half;
            double h = dsp_rrc((float) (tc / sps), beta) * span_window(tc, half) * norm;
            int j = s->taps - 1 - i;                   /* window is oldest first */
            s->coef_re[(size_t) p * s->taps + j] = (float) (h * cos(w * tau));
            s->coef_im[(size_t) p * s->taps + j] = (float) (h * sin(w * tau));
        }
    }
    s->pos = 0;
    return 0;
}

void dsp_bandpass_reset(dsp_bandpass_t *s)
{
    memset(s->buf, 0, sizeof(float) * (2 * s->taps + 1));
    s->pos = 0;
}

void dsp_bandpass_free(dsp_bandpass_t *s)
{
    free(s->coef_re);
    free(s->coef_im);
    free(s->buf);
    s->coef_re = s->coef_im = s->buf = NULL;
}
