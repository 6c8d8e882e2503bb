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
 */
#ifndef FAXENGINE_DSP_CARRIER_H
#define FAXENGINE_DSP_CARRIER_H

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

void dsp_carrier_init(dsp_carrier_t *s, float carrier_hz);
cf_t dsp_carrier_advance(dsp_carrier_t *s, double dt);
void dsp_carrier_track(dsp_carrier_t *s, float err, float kp, float ki, float sps);
float dsp_carrier_offset_hz(const dsp_carrier_t *s);
float dsp_phase_error(cf_t z, cf_t d);

#endif
