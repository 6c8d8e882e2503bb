/* dsp_equalizer.c: T/2 complex NLMS equaliser.  See dsp_equalizer.h. */
/* Let the compiler reassociate (and so vectorise) the tap sums. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("associative-math", "no-signed-zeros", "no-trapping-math")
#endif

#include <stdlib.h>
#include <string.h>

#include "dsp_equalizer.h"

int dsp_equalizer_init(dsp_equalizer_t *s, int len)
{
    memset(s, 0, sizeof(*s));
    s->len = len;
    s->taps = calloc((size_t) len, sizeof(cf_t));
    s->buf = calloc((size_t) 2 * len, sizeof(cf_t));
    if (!s->taps || !s->buf) {
        dsp_equalizer_free(s);
        return -1;
    }
    dsp_equalizer_reset(s, cf(1.0f, 0.0f));
    return 0;
}

void dsp_equalizer_free(dsp_equalizer_t *s)
{
    free(s->taps);
    free(s->buf);
    s->taps = s->buf = NULL;
}

void dsp_equalizer_reset(dsp_equalizer_t *s, cf_t centre)
{
    memset(s->taps, 0, sizeof(cf_t) * s->len);
    s->taps[(s->len - 1) / 2] = centre;
}

cf_t dsp_equalizer_output(const dsp_equalizer_t *s)
{
    const cf_t *u = s->buf + s->pos;
    float re = 0.0f, im = 0.0f;
    for (int i = 0; i < s->len; i++) {
        re += s->taps[i].re * u[i].re - s->taps[i].im * u[i].im;
        im += s->taps[i].re * u[i].im + s->taps[i].im * u[i].re;
    }
    return cf(re, im);
}

void dsp_equalizer_adapt(dsp_equalizer_t *s, cf_t err, float mu)
{
    float k = mu / (s->len * (s->power + 1e-12f));
    float er = err.re * k, ei = err.im * k;
    const cf_t *u = s->buf + s->pos;
    /* taps += k err conj(u) */
    for (int i = 0; i < s->len; i++) {
        s->taps[i].re += er * u[i].re + ei * u[i].im;
        s->taps[i].im += ei * u[i].re - er * u[i].im;
    }
}

void dsp_equalizer_rotate(dsp_equalizer_t *s, cf_t r)
{
    for (int i = 0; i < s->len; i++)
        s->taps[i] = cf_mul(s->taps[i], r);
}
