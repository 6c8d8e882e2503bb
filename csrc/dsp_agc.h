/* dsp_agc.h: signal power and carrier on/off detection with hysteresis.
 *
 * C API (shared by the V.29, V.27ter and V.17 receivers):
 *
 *   dsp_power_detector_t pd;
 *   dsp_power_detector_init(&pd, on_dbm0, off_dbm0, tau_samples);
 *       Carrier detection on the mean square of the int16 input, averaged by
 *       a one-pole filter of time constant tau_samples.  The carrier comes on
 *       when the average rises above on_dbm0 and goes off when it falls below
 *       off_dbm0 (off_dbm0 < on_dbm0: the hysteresis keeps a signal near the
 *       threshold from chattering).
 *   int changed = dsp_power_detector_update(&pd, x);
 *       One sample in; returns +1 when the carrier just came on, -1 when it
 *       just went off, 0 otherwise; pd.present holds the state.
 *   float dsp_power_dbm0(float mean_square);
 *       Mean square of int16 samples -> dBm0 (0 dBm0 is 3.14 dB below a
 *       full-scale sine, G.711).
 *   float dsp_dbm0_to_power(float dbm0);
 *       The reverse.
 *
 * The gain control of the receivers is not here: dsp_qamrx.c measures the
 * complex gain of the channel (level and carrier phase in one number) on
 * the opening alternation of the training and loads its inverse as the
 * equaliser's centre tap, which then follows slow level changes.
 */
#ifndef FAXENGINE_DSP_AGC_H
#define FAXENGINE_DSP_AGC_H

typedef struct {
    float power;      /* running mean square of the input */
    float alpha;      /* one-pole coefficient, 1/tau */
    float on_level;   /* mean square thresholds */
    float off_level;
    int present;
} dsp_power_detector_t;

void dsp_power_detector_init(dsp_power_detector_t *s, float on_dbm0, float off_dbm0, float tau_samples);
/* inline: it runs on every input sample of every receiver */
static inline int dsp_power_detector_update(dsp_power_detector_t *s, float x)
{
    s->power += s->alpha * (x * x - s->power);
    if (!s->present && s->power > s->on_level) {
        s->present = 1;
        return 1;
    }
    if (s->present && s->power < s->off_level) {
        s->present = 0;
        return -1;
    }
    return 0;
}
float dsp_dbm0_to_power(float dbm0);
float dsp_power_dbm0(float mean_square);

#endif
