/* dsp_timing.h: symbol timing recovery.
 *
 * Two parts.  An estimator for the alternation segments that open every
 * training sequence (V.29 ABAB, V.27ter 180-degree reversals, V.17 ABAB):
 * such a signal is a line pair at +-baud/2 around the carrier, so the
 * components at +-1/4 cycle per T/2 sample give both its presence and its
 * timing phase at once, with no loop to pull in.  Then a Gardner detector on
 * T/2 samples with a proportional-integral loop keeps the timing during data
 * (the integral term follows a sample clock offset of +-100 ppm).
 *
 * C API:
 *   dsp_alternation_t a;  dsp_alternation_init(&a, alpha)
 *   dsp_alternation_put(&a, u)            each T/2 baseband sample
 *   float dsp_alternation_strength(&a)    0 (noise, data) .. 1 (pure alternation)
 *   float dsp_alternation_timing(&a)      where the symbol centres are, in
 *                                         half-symbol units after the newest
 *                                         sample, in [0, 2)
 *   float dsp_gardner(prev, mid, cur)     Gardner's timing error of three T/2
 *                                         samples; > 0: sampling late
 *   dsp_timing_loop_t t; dsp_timing_loop_init(&t)
 *   float dsp_timing_loop_update(&t, err, kp, ki)  correction to add to the
 *                                         next sampling instant, in samples
 */
#ifndef FAXENGINE_DSP_TIMING_H
#define FAXENGINE_DSP_TIMING_H

#include "dsp_complex.h"

typedef struct {
    cf_t c_pos;          /* average of u e^{-j pi n/2} */
    cf_t c_neg;          /* average of u e^{+j pi n/2} */
    float power;
    cf_t mean;
    float alpha;
    int n;               /* sample index mod 4 */
} dsp_alternation_t;

void dsp_alternation_init(dsp_alternation_t *s, float alpha);
void dsp_alternation_put(dsp_alternation_t *s, cf_t u);
float dsp_alternation_strength(const dsp_alternation_t *s);
float dsp_alternation_timing(const dsp_alternation_t *s);

static inline float dsp_gardner(cf_t prev, cf_t mid, cf_t cur)
{
    return (cur.re - prev.re) * mid.re + (cur.im - prev.im) * mid.im;
}

typedef struct {
    float integral;
} dsp_timing_loop_t;

void dsp_timing_loop_init(dsp_timing_loop_t *s);
static inline float dsp_timing_loop_update(dsp_timing_loop_t *s, float err, float kp, float ki)
{
    s->integral += ki * err;
    return -(kp * err + s->integral);
}

#endif
