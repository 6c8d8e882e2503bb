/* dsp_carrier.h: carrier NCO and decision-directed second-order PLL.
 *
 * C API:
 *   dsp_carrier_t c;
 *   dsp_carrier_init(&c, carrier_hz)      nominal frequency at 8000 samples/s
 *   cf_t dsp_carrier_advance(&c, dt)      move dt samples on (fractions allowed);
 *                                         returns e^{-j theta}, the derotation
 *   dsp_carrier_track(&c, err, kp, ki, sps)
 *                                         PLL step once a symbol: err is the
 *                                         phase of output * conj(decision) in
 *                                         radians; kp (phase) and ki (frequency,
 *                                         per symbol) gains; sps samples/symbol
 *   dsp_carrier_offset_hz(&c)             tracked frequency - nominal
 *   float dsp_phase_error(z, d)           angle of z conj(d), radians
 *   float dsp_sin_u32(phase)              sine of a 32-bit phase (a turn is 2^32)
 *
 *   dsp_nco_t n;                          a fixed-frequency NCO, cheaper than
 *   dsp_nco_init(&n, carrier_hz)          dsp_carrier_t where no loop moves it
 *   cf_t dsp_nco_advance(&n, dt)          (a receiver's front end): as
 *                                         dsp_carrier_advance, e^{-j theta}
 */
#ifndef FAXENGINE_DSP_CARRIER_H
#define FAXENGINE_DSP_CARRIER_H

#include <math.h>
#include <stdint.h>

#include "dsp_complex.h"

/* One turn of sine in 2^DSP_SIN_BITS steps (and a quarter more, so the
 * cosine reads the same table), for NCOs; dsp_sin_table_init() fills it
 * (dsp_carrier_init does). */
#define DSP_SIN_BITS 12
extern float dsp_sin_table[];
void dsp_sin_table_init(void);

/* sin(2 pi phase / 2^32), linear interpolation in the table: error below
 * 3e-7.  A 32-bit phase accumulator makes an NCO whose steps carry no
 * rounding from sample to sample. */
static inline float dsp_sin_u32(uint32_t phase)
{
    uint32_t i = phase >> (32 - DSP_SIN_BITS);
    float f = (float) (phase & ((1u << (32 - DSP_SIN_BITS)) - 1)) * (1.0f / (float) (1u << (32 - DSP_SIN_BITS)));
    return dsp_sin_table[i] + f * (dsp_sin_table[i + 1] - dsp_sin_table[i]);
}

typedef struct {
    double phase;        /* radians, kept in [-pi, pi) */
    double freq;         /* radians per sample */
    double nominal;
} dsp_carrier_t;

/* The phase is a 64-bit accumulator (a turn is 2^64; spandsp's dds uses
 * 32 bits): it wraps by itself, with no branch and no reduction in double
 * precision.  A step of dt samples adds dt * turns per sample, its whole
 * turns dropped, in units of 2^-62 turn: the phase stays within 1e-15 of a
 * turn of the exact one (32 bits drifted by up to 5e-5 rad over 20 s,
 * enough to move which marginal decisions a noise peak turns). */
typedef struct {
    uint64_t phase;
    double turns;        /* carrier_hz / 8000, turns per sample */
} dsp_nco_t;

void dsp_nco_init(dsp_nco_t *s, float carrier_hz);
static inline cf_t dsp_nco_advance(dsp_nco_t *s, double dt)
{
    double x = dt * s->turns;
    x -= (double) (int64_t) x;                          /* (-1, 1) turn */
    s->phase += (uint64_t) (int64_t) (x * 4611686018427387904.0) << 2;
    uint32_t i = (uint32_t) (s->phase >> (64 - DSP_SIN_BITS));
    /* the position between table entries to float's 24 bits */
    float f = (float) ((uint32_t) (s->phase >> (64 - DSP_SIN_BITS - 24)) & 0xFFFFFFu) * (1.0f / 16777216.0f);
    const float *sp = dsp_sin_table + i;
    const float *cp = sp + (1 << DSP_SIN_BITS) / 4;
    return cf(cp[0] + f * (cp[1] - cp[0]), -(sp[0] + f * (sp[1] - sp[0])));
}

void dsp_carrier_init(dsp_carrier_t *s, float carrier_hz);
float dsp_carrier_offset_hz(const dsp_carrier_t *s);

/* Inline: called once a symbol from other units' loops, where a call
 * cost more than its work. */
#define DSP_PI 3.14159265358979323846

/* Into [-pi, pi).  A step of a symbol or less leaves at most one turn to
 * take off, which a subtraction does (exactly what the general case would);
 * floor() only for the rare long step. */
static inline double dsp_wrap_pi(double p)
{
    if (p >= DSP_PI)
        p -= 2.0 * DSP_PI;
    else if (p < -DSP_PI)
        p += 2.0 * DSP_PI;
    if (p >= DSP_PI || p < -DSP_PI)
        p -= 2.0 * DSP_PI * floor((p + DSP_PI) / (2.0 * DSP_PI));
    return p;
}

/* e^{-j phase} for phase in [-pi, pi) */
static inline cf_t dsp_expj_neg(double phase)
{
    double x = (phase < 0.0 ? phase + 2.0 * DSP_PI : phase) * ((1 << DSP_SIN_BITS) / (2.0 * DSP_PI));
    int i = (int) x;
    float f = (float) (x - i);
    i &= (1 << DSP_SIN_BITS) - 1;
    const float *sp = dsp_sin_table + i;
    const float *cp = dsp_sin_table + i + (1 << DSP_SIN_BITS) / 4;
    float sn = sp[0] + f * (sp[1] - sp[0]);
    float cs = cp[0] + f * (cp[1] - cp[0]);
    return cf(cs, -sn);
}

static inline cf_t dsp_carrier_advance(dsp_carrier_t *s, double dt)
{
    s->phase = dsp_wrap_pi(s->phase + s->freq * dt);
    return dsp_expj_neg(s->phase);
}

static inline void dsp_carrier_track(dsp_carrier_t *s, float err, float kp, float ki, float sps)
{
    /* The output is rotated by +err against the decision: the NCO lags, so
     * it moves forward in phase and, integrated, in frequency. */
    s->phase = dsp_wrap_pi(s->phase + kp * err);
    s->freq += ki * err / sps;
}

/* atan2 by octant reduction and a minimax polynomial on [0, 1]: error below
 * 1e-4 rad, several times cheaper than libm's; exact and odd at 0, so a PLL
 * settles where it would with the true angle. */
static inline float dsp_fast_atan2(float y, float x)
{
    float ax = fabsf(x), ay = fabsf(y);
    float mx = ax > ay ? ax : ay, mn = ax > ay ? ay : ax;
    if (mx == 0.0f)
        return 0.0f;
    float t = mn / mx;
    float t2 = t * t;
    float a = t * (0.99997726f + t2 * (-0.33262347f + t2 * (0.19354346f + t2 * (-0.11643287f
                   + t2 * (0.05265332f - t2 * 0.01172120f)))));
    a = ay > ax ? 1.57079633f - a : a;
    a = x < 0.0f ? 3.14159265f - a : a;
    return y < 0.0f ? -a : a;
}

static inline float dsp_phase_error(cf_t z, cf_t d)
{
    cf_t p = cf_mulc(z, d);
    return dsp_fast_atan2(p.im, p.re);
}

#endif
