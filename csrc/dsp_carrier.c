/* dsp_carrier.c: NCO and second-order PLL.  See dsp_carrier.h. */
#include <math.h>

#include "dsp_carrier.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* cos and sin from a table of one turn with linear interpolation: error
 * below 3e-7, a fraction of the cost of libm's sincos in the sample loop. */
#define SINCOS_BITS DSP_SIN_BITS
#define SINCOS_SIZE (1 << SINCOS_BITS)
float dsp_sin_table[SINCOS_SIZE + SINCOS_SIZE / 4 + 1];
#define sin_table dsp_sin_table
static int sin_table_ready;

/* The table is idempotent; racing builders write the same values. */
void dsp_sin_table_init(void)
{
    if (sin_table_ready)
        return;
    for (int i = 0; i < SINCOS_SIZE + SINCOS_SIZE / 4 + 1; i++)
        sin_table[i] = (float) sin(2.0 * M_PI * i / SINCOS_SIZE);
    sin_table_ready = 1;
}
#define sincos_init dsp_sin_table_init

/* e^{-j phase} for phase in [-pi, pi) */
static cf_t expj_neg(double phase)
{
    double x = (phase < 0.0 ? phase + 2.0 * M_PI : phase) * (SINCOS_SIZE / (2.0 * M_PI));
    int i = (int) x;
    float f = (float) (x - i);
    i &= SINCOS_SIZE - 1;
    const float *sp = sin_table + i;
    const float *cp = sin_table + i + SINCOS_SIZE / 4;
    float sn = sp[0] + f * (sp[1] - sp[0]);
    float cs = cp[0] + f * (cp[1] - cp[0]);
    return cf(cs, -sn);
}

void dsp_carrier_init(dsp_carrier_t *s, float carrier_hz)
{
    sincos_init();
    s->phase = 0.0;
    s->nominal = 2.0 * M_PI * carrier_hz / 8000.0;
    s->freq = s->nominal;
}

void dsp_nco_init(dsp_nco_t *s, float carrier_hz)
{
    sincos_init();
    s->phase = 0;
    s->turns = carrier_hz / 8000.0;
}

/* Into [-pi, pi).  A step of a symbol or less leaves at most one turn to
 * take off, which a subtraction does (exactly what the general case would);
 * floor() only for the rare long step. */
static double wrap(double p)
{
    if (p >= M_PI)
        p -= 2.0 * M_PI;
    else if (p < -M_PI)
        p += 2.0 * M_PI;
    if (p >= M_PI || p < -M_PI)
        p -= 2.0 * M_PI * floor((p + M_PI) / (2.0 * M_PI));
    return p;
}

cf_t dsp_carrier_advance(dsp_carrier_t *s, double dt)
{
    s->phase = wrap(s->phase + s->freq * dt);
    return expj_neg(s->phase);
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

/* atan2 by octant reduction and a minimax polynomial on [0, 1]: error below
 * 1e-4 rad, several times cheaper than libm's; exact and odd at 0, so a PLL
 * settles where it would with the true angle. */
static float fast_atan2(float y, float x)
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

float dsp_phase_error(cf_t z, cf_t d)
{
    cf_t p = cf_mulc(z, d);
    return fast_atan2(p.im, p.re);
}
