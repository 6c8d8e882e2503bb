/* dsp_timing.c: alternation timing estimator, Gardner loop.  See dsp_timing.h. */
#include <math.h>

#include "dsp_timing.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

void dsp_alternation_init(dsp_alternation_t *s, float alpha)
{
    s->c_pos = cf(0.0f, 0.0f);
    s->c_neg = cf(0.0f, 0.0f);
    s->power = 0.0f;
    s->mean = cf(0.0f, 0.0f);
    s->alpha = alpha;
    s->n = 0;
}

void dsp_alternation_put(dsp_alternation_t *s, cf_t u)
{
    /* e^{-j pi n/2} for n = 0,1,2,3: 1, -j, -1, j */
    static const float wr[4] = {1.0f, 0.0f, -1.0f, 0.0f};
    static const float wi[4] = {0.0f, -1.0f, 0.0f, 1.0f};
    cf_t w = cf(wr[s->n], wi[s->n]);
    cf_t a = cf_mul(u, w);
    cf_t b = cf_mulc(u, w);
    float k = s->alpha;
    s->c_pos.re += k * (a.re - s->c_pos.re);
    s->c_pos.im += k * (a.im - s->c_pos.im);
    s->c_neg.re += k * (b.re - s->c_neg.re);
    s->c_neg.im += k * (b.im - s->c_neg.im);
    s->power += k * (cf_abs2(u) - s->power);
    s->mean.re += k * (u.re - s->mean.re);
    s->mean.im += k * (u.im - s->mean.im);
    s->n = (s->n + 1) & 3;
}

float dsp_alternation_strength(const dsp_alternation_t *s)
{
    /* The mean (a carrier component, as V.29's A B has) is left out; but
     * not all of the power may be a mean (an unmodulated carrier, such as
     * V.27ter's echo protection tone, would leave 0/0). */
    float ac = s->power - cf_abs2(s->mean);
    if (ac < 0.25f * s->power)
        ac = 0.25f * s->power;
    if (ac <= 0.0f)
        return 0.0f;
    /* A pure alternation u_n = D cos(pi n/2 + phi) puts |D|^2/4 in each of
     * c_pos and c_neg and |D|^2/2 in the power. */
    return (cf_abs2(s->c_pos) + cf_abs2(s->c_neg)) / ac;
}

float dsp_alternation_timing(const dsp_alternation_t *s)
{
    /* c_pos ~ D e^{j phi}/2, c_neg ~ D e^{-j phi}/2 with the phase counted at
     * n = 0 of the current cycle; the peaks of cos(pi n/2 + phi) are at
     * n = -2 phi/pi (mod 2).  s->n is the index the next sample will get. */
    cf_t r = cf_mulc(s->c_pos, s->c_neg);
    float phi = 0.5f * atan2f(r.im, r.re);
    float peak = (float) (-2.0 * phi / M_PI);         /* in sample units, mod 2 */
    float ahead = peak - (float) s->n;                /* relative to the next sample */
    ahead = fmodf(ahead, 2.0f);
    if (ahead < 0.0f)
        ahead += 2.0f;
    return ahead;
}

void dsp_timing_loop_init(dsp_timing_loop_t *s)
{
    s->integral = 0.0f;
}
