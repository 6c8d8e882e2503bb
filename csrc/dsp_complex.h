/* dsp_complex.h: the single-precision complex type of the modem receivers.
 *
 * Plain C99 structs and inline helpers (no <complex.h>, so the code reads the
 * same under any compiler and the arithmetic the inner loops do is explicit).
 */
#ifndef FAXENGINE_DSP_COMPLEX_H
#define FAXENGINE_DSP_COMPLEX_H

typedef struct {
    float re;
    float im;
} cf_t;

static inline cf_t cf(float re, float im) { cf_t z = {re, im}; return z; }
static inline cf_t cf_add(cf_t a, cf_t b) { return cf(a.re + b.re, a.im + b.im); }
static inline cf_t cf_sub(cf_t a, cf_t b) { return cf(a.re - b.re, a.im - b.im); }
static inline cf_t cf_mul(cf_t a, cf_t b) { return cf(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re); }
/* a * conj(b) */
static inline cf_t cf_mulc(cf_t a, cf_t b) { return cf(a.re * b.re + a.im * b.im, a.im * b.re - a.re * b.im); }
static inline cf_t cf_scale(cf_t a, float k) { return cf(a.re * k, a.im * k); }
static inline float cf_abs2(cf_t a) { return a.re * a.re + a.im * a.im; }

#endif
