/* dsp_carrier.c: NCO and second-order PLL.  See dsp_carrier.h. */
#include <math.h>

#include "dsp_carrier.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

void dsp_carrier_init(dsp_carrier_t *s, float carrier_hz)
{
    s->phase = 0.0;
    s->nominal = 2.0 * M_PI * carrier_hz / 8000.0;
    s->freq = s->nominal;
}

static double wrap(double p)
{
    if (p >= M_PI || p < -M_PI)
        p -= 2.0 * M_PI * floor((p + M_PI) / (2.0 * M_PI));
    return p;
}

cf_t dsp_carrier_advance(dsp_carrier_t *s, double dt)
{
    s->phase = wrap(s->phase + s->freq * dt);
    return cf((float) cos(s->phase), (float) -sin(s->phase));
}

void dsp_carrier_track(dsp_carrier_t *s, float err, float kp, float ki, float sps)
{
    /* The output is rotated by +err against the decision: the NCO lags, so
     * it moves forward in phase and, integrated, in frequency. */
    s->phase = wrap(s->phase + kp * err);
    s->freq += ki * err / sps;
}

float dsp_carrier_offset_hz(const dsp_carrier_t *s)
{
    return (float) ((s->freq - s->nominal) * 8000.0 / (2.0 * M_PI));
}

float dsp_phase_error(cf_t z, cf_t d)
{
    cf_t p = cf_mulc(z, d);
    return atan2f(p.im, p.re);
}
