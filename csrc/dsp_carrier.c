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

float dsp_carrier_offset_hz(const dsp_carrier_t *s)
{
    return (float) ((s->freq - s->nominal) * 8000.0 / (2.0 * M_PI));
}
