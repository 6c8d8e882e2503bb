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
 */
#ifndef FAXENGINE_DSP_CARRIER_H
#define FAXENGINE_DSP_CARRIER_H

#include "dsp_complex.h"

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
