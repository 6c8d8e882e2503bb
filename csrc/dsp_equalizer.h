/* dsp_equalizer.h: fractionally spaced (T/2) complex adaptive equaliser, NLMS.
 *
 * C API:
 *   dsp_equalizer_t eq;
 *   dsp_equalizer_init(&eq, len)        len T/2 taps; len = 4k+1 puts the
 *                                       centre tap on a symbol sample (0 or -1)
 *   dsp_equalizer_reset(&eq, c)         all taps 0 but the centre tap, = c
 *                                       (c carries the initial gain and phase)
 *   dsp_equalizer_put(&eq, u)           one T/2 sample in
 *   cf_t dsp_equalizer_output(&eq)      sum of taps times samples; call after
 *                                       the on-symbol sample, once a symbol
 *   dsp_equalizer_adapt(&eq, err, mu)   NLMS step toward err = wanted - output:
 *                                       taps += mu err conj(u) / (len * power)
 *   dsp_equalizer_rotate(&eq, r)        multiply every tap by r (phase flips)
 *   dsp_equalizer_get_taps(&eq, t)      copy the taps out (cf_t[len]) ...
 *   dsp_equalizer_set_taps(&eq, t)      ... and back in
 *   dsp_equalizer_clear(&eq)            as init leaves it, without allocating
 *   dsp_equalizer_free(&eq)
 * The delay from input to output is the centre tap, (len-1)/2 half symbols.
 */
#ifndef FAXENGINE_DSP_EQUALIZER_H
#define FAXENGINE_DSP_EQUALIZER_H

#include "dsp_complex.h"

/* Split real and imaginary parts, each a plain float array, so the tap
 * loops vectorise (SSE: four taps an instruction) without shuffles. */
typedef struct {
    int len;
    float *tap_re, *tap_im;  /* tap i multiplies the sample i half symbols old */
    float *buf_re, *buf_im;  /* doubled rings, newest at [pos] */
    int pos;
    float power;             /* running mean |u|^2 of the input */
} dsp_equalizer_t;

int dsp_equalizer_init(dsp_equalizer_t *s, int len);
void dsp_equalizer_free(dsp_equalizer_t *s);
void dsp_equalizer_reset(dsp_equalizer_t *s, cf_t centre);
/* Empty history and unit taps, as init leaves it (no allocation). */
void dsp_equalizer_clear(dsp_equalizer_t *s);

static inline void dsp_equalizer_put(dsp_equalizer_t *s, cf_t u)
{
    if (--s->pos < 0)
        s->pos = s->len - 1;
    s->buf_re[s->pos] = s->buf_re[s->pos + s->len] = u.re;
    s->buf_im[s->pos] = s->buf_im[s->pos + s->len] = u.im;
    s->power += (cf_abs2(u) - s->power) * (1.0f / 64.0f);
}

cf_t dsp_equalizer_output(const dsp_equalizer_t *s);
void dsp_equalizer_adapt(dsp_equalizer_t *s, cf_t err, float mu);
void dsp_equalizer_rotate(dsp_equalizer_t *s, cf_t r);
/* The taps as len complex numbers (to keep a trained channel), and back. */
void dsp_equalizer_get_taps(const dsp_equalizer_t *s, cf_t *taps);
void dsp_equalizer_set_taps(dsp_equalizer_t *s, const cf_t *taps);

#endif
