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
    s->tap_re = calloc((size_t) len, sizeof(float));
    s->tap_im = calloc((size_t) len, sizeof(float));
    s->buf_re = calloc((size_t) 2 * len, sizeof(float));
    s->buf_im = calloc((size_t) 2 * len, sizeof(float));
    if (!s->tap_re || !s->tap_im || !s->buf_re || !s->buf_im) {
        dsp_equalizer_free(s);
        return -1;
    }
    dsp_equalizer_reset(s, cf(1.0f, 0.0f));
    return 0;
}

void dsp_equalizer_free(dsp_equalizer_t *s)
{
    free(s->tap_re);
    free(s->tap_im);
    free(s->buf_re);
    free(s->buf_im);
    s->tap_re = s->tap_im = s->buf_re = s->buf_im = NULL;
}

void dsp_equalizer_clear(dsp_equalizer_t *s)
{
    memset(s->buf_re, 0, sizeof(float) * 2 * (size_t) s->len);
    memset(s->buf_im, 0, sizeof(float) * 2 * (size_t) s->len);
    s->pos = 0;
    s->power = 0.0f;
    dsp_equalizer_reset(s, cf(1.0f, 0.0f));
}

void dsp_equalizer_reset(dsp_equalizer_t *s, cf_t centre)
{
    memset(s->tap_re, 0, sizeof(float) * s->len);
    memset(s->tap_im, 0, sizeof(float) * s->len);
    s->tap_re[(s->len - 1) / 2] = centre.re;
    s->tap_im[(s->len - 1) / 2] = centre.im;
}

cf_t dsp_equalizer_output(const dsp_equalizer_t *s)
{
    const float *restrict ur = s->buf_re + s->pos, *restrict ui = s->buf_im + s->pos;
    const float *restrict tr = s->tap_re, *restrict ti = s->tap_im;
    const int n = s->len;
    float re = 0.0f, im = 0.0f;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
    for (int i = 0; i < n; i++) {
        re += tr[i] * ur[i] - ti[i] * ui[i];
        im += tr[i] * ui[i] + ti[i] * ur[i];
    }
    return cf(re, im);
}

/* The update's loop on its own, its arrays restrict parameters: as locals
 * in the caller GCC did not believe them and checked at every call whether
 * the taps overlap the samples, 40 instructions of a call's 260. */
static void adapt_taps(float *restrict tr, float *restrict ti, const float *restrict ur,
                       const float *restrict ui, int n, float er, float ei)
{
    /* taps += k err conj(u) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
    for (int i = 0; i < n; i++) {
        tr[i] += er * ur[i] + ei * ui[i];
        ti[i] += ei * ur[i] - er * ui[i];
    }
}

void dsp_equalizer_adapt(dsp_equalizer_t *s, cf_t err, float mu)
{
    float k = mu / (s->len * (s->power + 1e-12f));
    adapt_taps(s->tap_re, s->tap_im, s->buf_re + s->pos, s->buf_im + s->pos, s->len, err.re * k, err.im * k);
}

void dsp_equalizer_rotate(dsp_equalizer_t *s, cf_t r)
{
    for (int i = 0; i < s->len; i++) {
        cf_t t = cf_mul(cf(s->tap_re[i], s->tap_im[i]), r);
        s->tap_re[i] = t.re;
        s->tap_im[i] = t.im;
    }
}

void dsp_equalizer_get_taps(const dsp_equalizer_t *s, cf_t *taps)
{
    for (int i = 0; i < s->len; i++)
        taps[i] = cf(s->tap_re[i], s->tap_im[i]);
}

void dsp_equalizer_set_taps(dsp_equalizer_t *s, const cf_t *taps)
{
    for (int i = 0; i < s->len; i++) {
        s->tap_re[i] = taps[i].re;
        s->tap_im[i] = taps[i].im;
    }
}
