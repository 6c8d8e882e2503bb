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

cf_t dsp_carrier_advance(dsp_carrier_t *s, double dt)
{
    s->phase = dsp_wrap_pi(s->phase + s->freq * dt);
    return expj_neg(s->phase);
}

float dsp_carrier_offset_hz(const dsp_carrier_t *s)
{
    return (float) ((s->freq - s->nominal) * 8000.0 / (2.0 * M_PI));
}
