/* dsp_filter.h: pulse shaping for the QAM/PSK transmitters and the complex
 * band-pass front end of their receivers.
 *
 * C API:
 *
 *   float dsp_rrc(float t, float beta);
 *       Root raised cosine impulse response at t symbol periods, roll-off
 *       beta, unit value scale of the continuous pulse.
 *
 *   dsp_shaper_t: transmit pulse shaping and carrier.  Symbols at the baud
 *   rate in, real samples at 8000/s out.  The symbol period is P/step output
 *   samples (V.29: 10/3, V.27ter 4800: 5/1, 2400: 20/3), so a polyphase RRC
 *   of P phases and `span` symbols serves every output sample.
 *     dsp_shaper_init(&sh, P, step, span, beta, carrier_hz, gain)  (0 or -1)
 *     dsp_shaper_needs_symbol(&sh)   1 when the next sample needs a new symbol
 *     dsp_shaper_push(&sh, sym)      hand in that symbol
 *     int16_t dsp_shaper_sample(&sh) the next output sample
 *     dsp_shaper_run(&sh, amp, max, next_symbol, user)  a block of samples,
 *                                    pulling symbols through a callback
 *     dsp_shaper_free(&sh)
 *     dsp_shaper_init_pulse(&sh, P, step, span, pulse, carrier_hz, gain, table)
 *                                    the same with the modem's own pulse
 *                                    (V.17: Kaiser-windowed), its table in
 *                                    caller memory if `table` is not NULL
 *   `gain` multiplies the constellation; dsp_shaper_power() gives the mean
 *   square of the output per unit of mean symbol energy, so a modem sets its
 *   level in dBm0.
 *
 *   dsp_bandpass_t: receiver front end.  A complex band-pass filter (an RRC
 *   low-pass of the symbol rate, moved to the carrier) over the real input,
 *   evaluated at any fractional time between two input samples, which is
 *   both the matched filter and the interpolator of symbol timing recovery.
 *     dsp_bandpass_init(&bp, sps, span, beta, carrier_hz, phases)  (0 or -1)
 *     dsp_bandpass_put(&bp, x)        one input sample in
 *     cf_t dsp_bandpass_eval(&bp, mu) output at mu (0..1) of a sample after
 *                                     the newest input; still on the carrier
 *                                     (multiply by the NCO's e^-j.theta)
 *     dsp_bandpass_clear(&bp)         empty it again, as init leaves it
 *     dsp_bandpass_free(&bp)
 *   The coefficients depend on the parameters alone: the first init with a
 *   parameter set in the process computes them, later ones share them
 *   (read-only, published with an atomic compare-and-swap, so any thread
 *   may init, with or without a GIL; they live until the process ends).
 */
#ifndef FAXENGINE_DSP_FILTER_H
#define FAXENGINE_DSP_FILTER_H

#include <stddef.h>
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "dsp_complex.h"

float dsp_rrc(float t, float beta);

#define DSP_SHAPER_TAPS 12   /* symbols under the transmit filter, at most; a multiple of 4 */

#if defined(__GNUC__)
#define DSP_ALIGN16 __attribute__((aligned(16)))
#else
#define DSP_ALIGN16
#endif

typedef struct {
    int phases;          /* P */
    int step;            /* phase advance per output sample */
    int period;          /* samples after which phase and carrier repeat */
    float *mix;          /* [period][2][DSP_SHAPER_TAPS]: pulse times cos and -sin */
    float *own_mix;      /* mix when init allocated it (freed with the shaper), or NULL */
    /* the symbols under the filter, newest first (hist_re[k]: k symbols
     * old), shifted along by whole 4-float vectors at each symbol: see
     * dsp_filter.c, shaper_shift() */
    DSP_ALIGN16 float hist_re[DSP_SHAPER_TAPS];
    DSP_ALIGN16 float hist_im[DSP_SHAPER_TAPS];
    int phase;           /* position of the next sample within a symbol */
    int n;               /* output sample index mod period */
    float gain;
    float power;         /* mean square per unit symbol energy, unit gain */
} dsp_shaper_t;

int dsp_shaper_init(dsp_shaper_t *s, int phases, int step, int span, float beta,
                    float carrier_hz, float gain);   /* span <= DSP_SHAPER_TAPS */
/* The modem's own pulse: pulse[ph * span + k], the symbol k periods old at
 * fraction ph/P of the current one.  table: caller memory for the table
 * (dsp_shaper_table_floats() floats, then nothing is allocated), or NULL. */
int dsp_shaper_init_pulse(dsp_shaper_t *s, int phases, int step, int span, const double *pulse,
                          float carrier_hz, float gain, float *table);
size_t dsp_shaper_table_floats(int phases, int step, float carrier_hz);
void dsp_shaper_free(dsp_shaper_t *s);
static inline int dsp_shaper_needs_symbol(const dsp_shaper_t *s) { return s->phase >= s->phases; }
void dsp_shaper_push(dsp_shaper_t *s, cf_t sym);
int16_t dsp_shaper_sample(dsp_shaper_t *s);
/* Up to max samples; next_symbol(user, &sym) is asked for each new symbol
 * and returns 1 (sym set), 0 (none yet) or -1 (the end): then it stops. */
int dsp_shaper_run(dsp_shaper_t *s, int16_t *amp, int max, int (*next_symbol)(void *user, cf_t *sym),
                   void *user);
float dsp_shaper_power(const dsp_shaper_t *s);

typedef struct {
    int taps;            /* input samples under the filter, a multiple of 4 */
    float delay;         /* samples from an input to the filter's centre */
    int phases;          /* fractional positions tabulated: 0..phases inclusive */
    const float *coef_re;    /* [phase][tap], taps reversed so a dot product with the window works */
    const float *coef_im;    /* both shared read-only by the filters of one parameter set */
    void *own_bank;          /* the coefficients when not shared (freed with the filter), or NULL */
    float *buf;          /* doubled ring of the input */
    int pos;
} dsp_bandpass_t;

int dsp_bandpass_init(dsp_bandpass_t *s, float sps, int span, float beta, float carrier_hz, int phases);
/* Empty the filter, as init leaves it (a modem's restart: no allocation). */
void dsp_bandpass_clear(dsp_bandpass_t *s);
void dsp_bandpass_free(dsp_bandpass_t *s);

static inline void dsp_bandpass_put(dsp_bandpass_t *s, float x)
{
    if (++s->pos >= s->taps)
        s->pos = 0;
    s->buf[s->pos] = x;
    s->buf[s->pos + s->taps] = x;
}

/* The phase of the tabulated filter nearest mu. */
static inline int dsp_bandpass_phase(const dsp_bandpass_t *s, float mu)
{
    int p = (int) (mu * (float) s->phases + 0.5f);
    return p < 0 ? 0 : p > s->phases ? s->phases : p;
}

/* The dot product of the window w (oldest .. newest) with a phase's
 * coefficients, taps a multiple of 4, summed in one order whichever code
 * runs: tap j into partial sum j mod 4, then (0 + 2) + (1 + 3) (the order
 * GCC's vectorised loop had, so the bits did not change when it became
 * inline: a call cost a fifth of its work).  The plain C gives the same
 * bits (tests/csrc/dsp_test.c). */
cf_t dsp_bandpass_dot_c(const float *w, const float *cr, const float *ci, int taps);
#ifdef __SSE2__
static inline cf_t dsp_bandpass_dot(const float *w, const float *cr, const float *ci, int taps)
{
    __m128 re = _mm_setzero_ps(), im = _mm_setzero_ps();
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
    for (int j = 0; j < taps; j += 4) {
        __m128 x = _mm_loadu_ps(w + j);
        re = _mm_add_ps(re, _mm_mul_ps(x, _mm_loadu_ps(cr + j)));
        im = _mm_add_ps(im, _mm_mul_ps(x, _mm_loadu_ps(ci + j)));
    }
    re = _mm_add_ps(re, _mm_movehl_ps(re, re));
    im = _mm_add_ps(im, _mm_movehl_ps(im, im));
    re = _mm_add_ss(re, _mm_shuffle_ps(re, re, 1));
    im = _mm_add_ss(im, _mm_shuffle_ps(im, im, 1));
    return cf(_mm_cvtss_f32(re), _mm_cvtss_f32(im));
}
#else
#define dsp_bandpass_dot dsp_bandpass_dot_c
#endif

static inline cf_t dsp_bandpass_eval(const dsp_bandpass_t *s, float mu)
{
    size_t at = (size_t) dsp_bandpass_phase(s, mu) * (size_t) s->taps;
    return dsp_bandpass_dot(s->buf + s->pos + 1, s->coef_re + at, s->coef_im + at, s->taps);
}

#endif
