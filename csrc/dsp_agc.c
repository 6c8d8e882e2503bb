/* dsp_agc.c: power measurement and carrier detection with hysteresis.
 * See dsp_agc.h for the API. */
#include <math.h>

#include "dsp_agc.h"

/* 0 dBm0 is 3.14 dB below the power of a full-scale (32 767) sine, G.711:
 * the C side's one copy of faxengine/levels.py's DBM0_REF_POWER, and equal
 * to it (the modem tests measure each transmitter's level, set here, with
 * the Python definition). */
#define DBM0_REF_POWER ((float) (32767.0 * 32767.0 / 2.0 / 2.0606299))   /* 10^(3.14/10) */

float dsp_dbm0_to_power(float dbm0)
{
    return DBM0_REF_POWER * powf(10.0f, dbm0 / 10.0f);
}

float dsp_power_dbm0(float mean_square)
{
    if (mean_square <= 1e-9f)
        return -120.0f;
    return 10.0f * log10f(mean_square / DBM0_REF_POWER);
}

void dsp_power_detector_init(dsp_power_detector_t *s, float on_dbm0, float off_dbm0, float tau_samples)
{
    s->power = 0.0f;
    s->alpha = 1.0f / tau_samples;
    s->on_level = dsp_dbm0_to_power(on_dbm0);
    s->off_level = dsp_dbm0_to_power(off_dbm0);
    s->present = 0;
}

