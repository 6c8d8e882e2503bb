/* dsp_filter.c: RRC pulse shaping (transmit) and the complex band-pass,
 * fractionally delayed front end (receive).  See dsp_filter.h. */
/* The dot products of the filters are sums the compiler may vectorise only
 * if it may reassociate them: allow that (and only that) in this file. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("associative-math", "no-signed-zeros", "no-trapping-math")
#endif

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

/* The filter phase repeats every phases/gcd(phases, step) samples, the
 * carrier every 8000/gcd(f, 8000): one table of the product covers both,
 * so a sample is one dot product (the carrier folded into the taps). */
static int shaper_period(int phases, int step, float carrier_hz, int *carrier_period)
{
    int hz = (int) lrintf(carrier_hz);
    *carrier_period = 8000 / gcd(hz, 8000);
    int phase_period = phases / gcd(phases, step);
    return *carrier_period / gcd(*carrier_period, phase_period) * phase_period;
}

size_t dsp_shaper_table_floats(int phases, int step, float carrier_hz)
{
    int carrier_period;
    return (size_t) shaper_period(phases, step, carrier_hz, &carrier_period) * 2 * DSP_SHAPER_TAPS;
}

int dsp_shaper_init_pulse(dsp_shaper_t *s, int phases, int step, int span, const double *pulse,
                          float carrier_hz, float gain, float *table)
{
    memset(s, 0, sizeof(*s));
    if (span > DSP_SHAPER_TAPS)
        return -1;
    s->phases = phases;
    s->step = step;
    s->gain = gain;
    int hz = (int) lrintf(carrier_hz), carrier_period;
    s->period = shaper_period(phases, step, carrier_hz, &carrier_period);
    size_t floats = (size_t) s->period * 2 * DSP_SHAPER_TAPS;
    if (table == NULL) {
        s->mix = s->own_mix = malloc(floats * sizeof(float));
        if (s->mix == NULL)
            return -1;
    } else {
        s->mix = table;
    }
    memset(s->mix, 0, floats * sizeof(float));
    double acc = 0.0;
    for (int i = 0; i < phases * span; i++)
        acc += pulse[i] * pulse[i];
    s->power = (float) (acc / (2.0 * phases));    /* E[y^2] = E|sym|^2 sum(h^2) / (2P) */
    for (int n = 0, ph = 0; n < s->period; n++) {
        double w = 2.0 * M_PI * hz * (n % carrier_period) / 8000.0;
        double c = cos(w), sn = sin(w);
        float *m = s->mix + (size_t) n * 2 * DSP_SHAPER_TAPS;
        for (int k = 0; k < span; k++) {
            double h = pulse[ph * span + k];
            /* s(n) = I cos(wn) - Q sin(wn) */
            m[k] = (float) (h * c);
            m[DSP_SHAPER_TAPS + k] = (float) (-h * sn);
        }
        ph = (ph + step) % phases;
    }
    s->phase = phases;      /* the first sample needs a symbol */
    return 0;
}

int dsp_shaper_init(dsp_shaper_t *s, int phases, int step, int span, float beta,
                    float carrier_hz, float gain)
{
    memset(s, 0, sizeof(*s));
    if (span > DSP_SHAPER_TAPS)
        return -1;
    /* tap k of phase ph: the pulse of the symbol k periods old, at fraction
     * ph/P of the current period, h((k P + ph)/P - span/2); computed once
     * per (ph, k), not once per row of the table (a V.29 transmitter's
     * start: 44 to 10 us) */
    double *pulse = malloc(sizeof(double) * (size_t) phases * (size_t) span);
    if (!pulse)
        return -1;
    double half = span / 2.0;
    for (int ph = 0; ph < phases; ph++)
        for (int k = 0; k < span; k++) {
            double t = (k * phases + ph) / (double) phases - half;
            pulse[ph * span + k] = dsp_rrc((float) t, beta) * span_window(t, half);
        }
    int done = dsp_shaper_init_pulse(s, phases, step, span, pulse, carrier_hz, gain, NULL);
    free(pulse);
    return done;
}

void dsp_shaper_free(dsp_shaper_t *s)
{
    free(s->own_mix);
    s->own_mix = NULL;
    s->mix = NULL;
}

/* The symbol history is shifted, not a ring.  A ring's push stores the new
 * symbol as one float, and the next sample's dot product at once loads it
 * back inside a 4-float vector: a load that only part of a pending store
 * covers cannot be forwarded from the store buffer, and waits until that
 * store reaches the cache (a store-forwarding stall, about 12 % of V.29
 * TX's time).  Here a push makes the new history in registers, moving each
 * vector along by one float and the symbol into the first, and
 * dsp_shaper_run keeps it there over all the samples of a run: the dot
 * products load only the table. */
#if defined(__GNUC__)
typedef float shaper_v4 __attribute__((vector_size(16)));
typedef float shaper_v4u __attribute__((vector_size(16), aligned(4)));   /* a table row, any alignment */
typedef int shaper_v4i __attribute__((vector_size(16)));

typedef struct {
    shaper_v4 re[DSP_SHAPER_TAPS / 4], im[DSP_SHAPER_TAPS / 4];
} shaper_hist_t;

/* [prev[3], v[0], v[1], v[2]]: v moved one float along, prev's last in front */
#if defined(__clang__)
#define SHAPER_SHIFT(v, prev) __builtin_shufflevector((v), (prev), 7, 0, 1, 2)
#else
#define SHAPER_SHIFT(v, prev) __builtin_shuffle((v), (prev), (shaper_v4i) {7, 0, 1, 2})
#endif

/* (unaligned accesses: a caller's memory for a modem state may be placed
 * anywhere; once per run or push, they cost nothing) */
static inline void shaper_load(const dsp_shaper_t *s, shaper_hist_t *h)
{
    for (int k = 0; k < DSP_SHAPER_TAPS / 4; k++) {
        h->re[k] = *(const shaper_v4u *) (s->hist_re + 4 * k);
        h->im[k] = *(const shaper_v4u *) (s->hist_im + 4 * k);
    }
}

static inline void shaper_store(dsp_shaper_t *s, const shaper_hist_t *h)
{
    for (int k = 0; k < DSP_SHAPER_TAPS / 4; k++) {
        *(shaper_v4u *) (s->hist_re + 4 * k) = h->re[k];
        *(shaper_v4u *) (s->hist_im + 4 * k) = h->im[k];
    }
}

static inline void shaper_shift(shaper_hist_t *h, cf_t sym)
{
    for (int k = DSP_SHAPER_TAPS / 4 - 1; k > 0; k--) {
        h->re[k] = SHAPER_SHIFT(h->re[k], h->re[k - 1]);
        h->im[k] = SHAPER_SHIFT(h->im[k], h->im[k - 1]);
    }
    h->re[0] = SHAPER_SHIFT(h->re[0], ((shaper_v4) {sym.re, sym.re, sym.re, sym.re}));
    h->im[0] = SHAPER_SHIFT(h->im[0], ((shaper_v4) {sym.im, sym.im, sym.im, sym.im}));
}

/* sum over k of hist_re[k] m[k] + hist_im[k] m[TAPS + k] */
static inline float shaper_dot(const float *m, const shaper_hist_t *h)
{
    shaper_v4 a = h->re[0] * *(const shaper_v4u *) m;
    shaper_v4 b = h->im[0] * *(const shaper_v4u *) (m + DSP_SHAPER_TAPS);
    for (int k = 1; k < DSP_SHAPER_TAPS / 4; k++) {
        a += h->re[k] * *(const shaper_v4u *) (m + 4 * k);
        b += h->im[k] * *(const shaper_v4u *) (m + DSP_SHAPER_TAPS + 4 * k);
    }
    a += b;
    return (a[0] + a[2]) + (a[1] + a[3]);
}
#else
/* Other compilers: the same history in plain arrays. */
typedef struct {
    float re[DSP_SHAPER_TAPS], im[DSP_SHAPER_TAPS];
} shaper_hist_t;

static inline void shaper_load(const dsp_shaper_t *s, shaper_hist_t *h)
{
    memcpy(h->re, s->hist_re, sizeof(h->re));
    memcpy(h->im, s->hist_im, sizeof(h->im));
}

static inline void shaper_store(dsp_shaper_t *s, const shaper_hist_t *h)
{
    memcpy(s->hist_re, h->re, sizeof(h->re));
    memcpy(s->hist_im, h->im, sizeof(h->im));
}

static inline void shaper_shift(shaper_hist_t *h, cf_t sym)
{
    memmove(h->re + 1, h->re, sizeof(float) * (DSP_SHAPER_TAPS - 1));
    memmove(h->im + 1, h->im, sizeof(float) * (DSP_SHAPER_TAPS - 1));
    h->re[0] = sym.re;
    h->im[0] = sym.im;
}

static inline float shaper_dot(const float *m, const shaper_hist_t *h)
{
    float a = 0.0f, b = 0.0f;
    for (int k = 0; k < DSP_SHAPER_TAPS; k++) {
        a += h->re[k] * m[k];
        b += h->im[k] * m[DSP_SHAPER_TAPS + k];
    }
    return a + b;
}
#endif

/* One output sample: the dot product of the symbols with the taps of table
 * row m, scaled, clipped and rounded. */
static inline int16_t shaper_out(const float *m, const shaper_hist_t *h, float gain)
{
    float y = gain * shaper_dot(m, h);
    /* clip, then round to nearest without a branch on the sign (which
     * mispredicts half the time): adding 1.5 * 2^23 leaves the rounded
     * integer in the low mantissa bits */
    y = y > 32767.0f ? 32767.0f : y;
    y = y < -32768.0f ? -32768.0f : y;
    union { float f; int32_t i; } u = { y + 12582912.0f };
    return (int16_t) (u.i - 0x4B400000);
}

void dsp_shaper_push(dsp_shaper_t *s, cf_t sym)
{
    shaper_hist_t h;
    shaper_load(s, &h);
    shaper_shift(&h, sym);
    shaper_store(s, &h);
    s->phase -= s->phases;
}

int16_t dsp_shaper_sample(dsp_shaper_t *s)
{
    shaper_hist_t h;
    shaper_load(s, &h);
    int16_t y = shaper_out(s->mix + (size_t) s->n * 2 * DSP_SHAPER_TAPS, &h, s->gain);
    if (++s->n >= s->period)
        s->n = 0;
    s->phase += s->step;
    return y;
}

int dsp_shaper_run(dsp_shaper_t *s, int16_t *amp, int max, int (*next_symbol)(void *user, cf_t *sym),
                   void *user)
{
    /* the state in locals: under -fno-strict-aliasing every store to amp
     * could change it, and the compiler would reload it all for each
     * sample (V.17 TX: 10 % of its instructions); the history in registers
     * (see shaper_shift) */
    shaper_hist_t h;
    shaper_load(s, &h);
    const float *mix = s->mix;
    const float gain = s->gain;
    const int phases = s->phases, step = s->step, period = s->period;
    int phase = s->phase, row = s->n;
    int n = 0;
    while (n < max) {
        if (phase >= phases) {
            cf_t sym;
            if (next_symbol(user, &sym) <= 0)
                break;
            shaper_shift(&h, sym);
            phase -= phases;
        }
        while (phase < phases && n < max) {
            amp[n++] = shaper_out(mix + (size_t) row * 2 * DSP_SHAPER_TAPS, &h, gain);
            if (++row >= period)
                row = 0;
            phase += step;
        }
    }
    shaper_store(s, &h);
    s->phase = phase;
    s->n = row;
    return n;
}

float dsp_shaper_power(const dsp_shaper_t *s)
{
    return s->power;
}

/* A band-pass's coefficients depend on its parameters alone and cost far
 * more than the rest of a receiver's start (V.17: 65 phases x 28 taps of RRC,
 * cos and sin, about 0.85 M instructions against 0.03 M for the rest), so the
 * bank of each parameter set is computed once per process and shared
 * read-only by every filter that uses it.  Banks are published into a few
 * slots with an atomic compare-and-swap: builders that race on one set both
 * build and the loser frees its copy; a set that finds no free slot keeps a
 * private bank, freed with its filter. */
typedef struct {
    float sps, beta, carrier_hz;
    int span, phases;
    float *coef_re, *coef_im;
} bandpass_bank_t;

#define BANDPASS_BANK_SLOTS 16
static bandpass_bank_t *bandpass_banks[BANDPASS_BANK_SLOTS];

static int bank_is(const bandpass_bank_t *b, float sps, int span, float beta, float carrier_hz, int phases)
{
    return b->sps == sps && b->span == span && b->beta == beta && b->carrier_hz == carrier_hz
        && b->phases == phases;
}

static bandpass_bank_t *bank_build(float sps, int span, float beta, float carrier_hz, int phases, int real,
                                   int taps)
{
    size_t n = (size_t) (phases + 1) * taps;
    bandpass_bank_t *b = malloc(sizeof(*b) + 2 * n * sizeof(float));
    if (b == NULL)
        return NULL;
    b->sps = sps;
    b->span = span;
    b->beta = beta;
    b->carrier_hz = carrier_hz;
    b->phases = phases;
    b->coef_re = (float *) (b + 1);
    b->coef_im = b->coef_re + n;
    double half = real / 2.0;
    double w = 2.0 * M_PI * carrier_hz / 8000.0;
    /* Gain 2/sps: a unit symbol through TX RRC and this RRC gives unit output. */
    double norm = 2.0 / sps;
    for (int p = 0; p <= phases; p++) {
        double mu = (double) p / phases;
        for (int i = 0; i < taps; i++) {
            int j = taps - 1 - i;                      /* window is oldest first */
            if (i >= real) {
                b->coef_re[(size_t) p * taps + j] = b->coef_im[(size_t) p * taps + j] = 0.0f;
                continue;
            }
            double tau = i + mu;                       /* age of input sample x[m-i] at time m+mu */
            double tc = tau - half;
            double h = dsp_rrc((float) (tc / sps), beta) * span_window(tc, half) * norm;
            b->coef_re[(size_t) p * taps + j] = (float) (h * cos(w * tau));
            b->coef_im[(size_t) p * taps + j] = (float) (h * sin(w * tau));
        }
    }
    return b;
}

int dsp_bandpass_init(dsp_bandpass_t *s, float sps, int span, float beta, float carrier_hz, int phases)
{
    memset(s, 0, sizeof(*s));
    /* the filter's own length, rounded up to a multiple of 4 with zero
     * coefficients at the oldest end: the dot products then run in whole
     * vectors, with no scalar tail */
    int real = (int) ceil(span * sps);
    s->taps = (real + 3) & ~3;
    s->phases = phases;
    s->delay = (float) (real / 2.0);
    s->buf = calloc((size_t) 2 * s->taps + 1, sizeof(float));
    if (!s->buf)
        return -1;
    const bandpass_bank_t *bank = NULL;
    for (int k = 0; k < BANDPASS_BANK_SLOTS && bank == NULL; k++) {
        const bandpass_bank_t *b = __atomic_load_n(&bandpass_banks[k], __ATOMIC_ACQUIRE);
        if (b == NULL)
            break;
        if (bank_is(b, sps, span, beta, carrier_hz, phases))
            bank = b;
    }
    if (bank == NULL) {
        bandpass_bank_t *mine = bank_build(sps, span, beta, carrier_hz, phases, real, s->taps);
        if (mine == NULL) {
            dsp_bandpass_free(s);
            return -1;
        }
        for (int k = 0; k < BANDPASS_BANK_SLOTS && bank == NULL; k++) {
            bandpass_bank_t *seen = NULL;
            if (__atomic_compare_exchange_n(&bandpass_banks[k], &seen, mine, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE))
                bank = mine;
            else if (bank_is(seen, sps, span, beta, carrier_hz, phases)) {
                free(mine);
                bank = seen;
            }
        }
        if (bank == NULL)
            bank = s->own_bank = mine;
    }
    s->coef_re = bank->coef_re;
    s->coef_im = bank->coef_im;
    s->pos = 0;
    return 0;
}

void dsp_bandpass_clear(dsp_bandpass_t *s)
{
    memset(s->buf, 0, sizeof(float) * (size_t) (2 * s->taps + 1));
    s->pos = 0;
}

void dsp_bandpass_free(dsp_bandpass_t *s)
{
    free(s->own_bank);
    free(s->buf);
    s->own_bank = NULL;
    s->buf = NULL;
    s->coef_re = s->coef_im = NULL;
}

/* The order of dsp_bandpass_dot's sums is the code's own, not the
 * compiler's (no reassociation here). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-associative-math")
#endif
cf_t dsp_bandpass_dot_c(const float *w, const float *cr, const float *ci, int taps)
{
    float re[4] = {0.0f, 0.0f, 0.0f, 0.0f}, im[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int j = 0; j < taps; j += 4)
        for (int l = 0; l < 4; l++) {
            re[l] = re[l] + w[j + l] * cr[j + l];
            im[l] = im[l] + w[j + l] * ci[j + l];
        }
    return cf((re[0] + re[2]) + (re[1] + re[3]), (im[0] + im[2]) + (im[1] + im[3]));
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
