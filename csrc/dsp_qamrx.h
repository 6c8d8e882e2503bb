/* dsp_qamrx.h: the receiver core shared by the QAM/PSK modems (V.29, V.27ter;
 * V.17 can drive the same blocks).
 *
 * It chains the blocks of dsp_agc.h, dsp_filter.h, dsp_timing.h,
 * dsp_equalizer.h and dsp_carrier.h into the usual training receiver:
 *
 *   SEEK       carrier on; T/2 samples at nominal timing until the opening
 *              alternation of the training is seen (dsp_alternation_t); its
 *              timing phase is taken in one step.
 *   ALT_EST    a few alternation symbols give the complex gain (AGC and
 *              carrier phase in one number, loaded as the equaliser's centre
 *              tap), the carrier frequency offset, and which of the two
 *              alternation points came first.
 *   ALT_TRACK  PLL on the known alternation; every symbol a window of the
 *              last W outputs is tested against the start of the known
 *              equaliser conditioning pattern (either sign: PSK reversals
 *              leave a 180-degree ambiguity that the pattern resolves).
 *   PATTERN    the equaliser trains (NLMS) on the known pattern.
 *   PREAMBLE   decision directed, the modem's descrambler synchronises on
 *              the scrambled ones; no bits delivered.
 *   DATA       decision directed; bits delivered.
 * Gardner timing runs from ALT_TRACK on; carrier loss returns to SEEK.
 * Lost samples (dsp_qamrx_rx_fillin) move time on without touching the
 * carrier detector or any loop.
 *
 * The modem describes itself with dsp_qamrx_desc_t: rates, filter, the
 * alternation points, the pattern, loop gains, and three callbacks: decide
 * (slicer: nearest constellation point and a code for it), reference (the
 * known last training symbol, as the differential decoder's start) and bits
 * (code -> data bits through differential decoding and descrambling).
 */
#ifndef FAXENGINE_DSP_QAMRX_H
#define FAXENGINE_DSP_QAMRX_H

#include <stdint.h>

#include "dsp_agc.h"
#include "dsp_carrier.h"
#include "dsp_complex.h"
#include "dsp_equalizer.h"
#include "dsp_filter.h"
#include "dsp_symtap.h"
#include "dsp_timing.h"

#define DSP_QAMRX_WINDOW 16

enum {
    DSP_QAMRX_SEEK = 0,
    DSP_QAMRX_ALT_EST,
    DSP_QAMRX_ALT_TRACK,
    DSP_QAMRX_PATTERN,
    DSP_QAMRX_PREAMBLE,
    DSP_QAMRX_DATA,
};

typedef struct {
    float baud;
    float carrier_hz;
    float beta;               /* front-end RRC roll-off */
    int span;                 /* front-end filter span, symbols */
    int eq_len;               /* equaliser T/2 taps, 4k+1 */
    cf_t alt_a, alt_b;        /* the alternation, first point and second */
    int alt_symbols;          /* longest alternation the transmitter sends */
    int alt_est_symbols;      /* symbols used by ALT_EST, even */
    float alt_alpha;          /* averaging of the alternation detector per T/2 sample */
    const cf_t *pattern;      /* equaliser conditioning pattern, >= DSP_QAMRX_WINDOW symbols */
    int pattern_len;
    int preamble_len;         /* decision-directed symbols before data */
    float mu_train, mu_data;  /* NLMS steps */
    int mu_hold, mu_half;     /* the pattern's step: mu_train for mu_hold symbols, then
                                 halved every mu_half symbols down to mu_data (0: never) */
    float pll_kp_acq, pll_ki_acq, pll_kp_train, pll_ki_train, pll_kp_data, pll_ki_data;
    float ted_kp_train, ted_ki_train, ted_kp_data, ted_ki_data;
    float ted_max_ppm;        /* bound on the Gardner loop's integral, the clock
                                 difference it may believe in (0: none) */
    float carrier_on_dbm0, carrier_off_dbm0;
    int (*decide)(void *user, cf_t z, cf_t *point);
    void (*reference)(void *user, cf_t point);
    int (*bits)(void *user, int code, uint8_t *out, int deliver);
    void *user;
} dsp_qamrx_desc_t;

typedef struct dsp_qamrx_s {
    dsp_qamrx_desc_t d;
    float sps;                /* samples per symbol */
    float half;               /* samples per T/2 */
    float ted_max;            /* ted_max_ppm as samples per symbol */
    int delay;                /* equaliser delay, symbols */
    dsp_power_detector_t pd;
    dsp_bandpass_t bp;
    dsp_equalizer_t eq;
    dsp_nco_t nco;            /* front end, at the nominal carrier */
    dsp_carrier_t pll;        /* after the equaliser, radians per symbol */
    dsp_alternation_t alt;
    dsp_timing_loop_t tl;
    double t_next;            /* next T/2 instant, samples after the newest input */
    cf_t rot;                 /* NCO derotation at t_next */
    int on_next;              /* the next T/2 sample is a symbol centre */
    cf_t last_on, last_mid;
    int state;
    int filling;              /* inside dsp_qamrx_rx_fillin */
    int lost;                 /* T/2 samples the filters still hold zeros of a hole */
    int count;
    int alt_index;            /* index in the alternation of the next equaliser output */
    cf_t first_a, first_b;    /* the alternation in the order it arrived */
    cf_t sum_even[2], sum_odd[2];
    cf_t ring_z[DSP_QAMRX_WINDOW], ring_d[DSP_QAMRX_WINDOW];
    int ring_pos;
    int pattern_idx;
    float sig_power, err_power;
    dsp_symtap_t tap;         /* the data symbols decided on, for diagrams */
} dsp_qamrx_t;

int dsp_qamrx_init(dsp_qamrx_t *s, const dsp_qamrx_desc_t *desc);
void dsp_qamrx_free(dsp_qamrx_t *s);
/* Back to SEEK (carrier lost): timing, carrier and equaliser forgotten,
 * the power meter kept. */
void dsp_qamrx_restart(dsp_qamrx_t *s);
/* Everything as init left it (a new call), in the same memory and buffers. */
void dsp_qamrx_reset(dsp_qamrx_t *s);
/* Process len samples; writes the data bits decoded to bits (room for
 * dsp_qamrx_max_bits(len, bits_per_symbol)); returns how many. */
int dsp_qamrx_rx(dsp_qamrx_t *s, const int16_t *amp, int len, uint8_t *bits);
/* len samples that never arrived (a lost packet): carrier kept, timing and
 * carrier phase moved on, no adaptation; the bits the decisions make on the
 * hole (so the data after it keeps its place) go to bits, which needs the
 * same room as for dsp_qamrx_rx.  Returns how many. */
int dsp_qamrx_rx_fillin(dsp_qamrx_t *s, int len, uint8_t *bits);
static inline int dsp_qamrx_max_bits(const dsp_qamrx_t *s, int len, int bits_per_symbol)
{
    return ((int) (len / s->sps) + 2) * bits_per_symbol;
}
/* Loop gains and thresholds that suit a 2400/1600/1200 baud training
 * receiver; a modem sets these first, then what it needs different. */
void dsp_qamrx_desc_defaults(dsp_qamrx_desc_t *d);
/* What the receiver sees, for the modems' public getters. */
int dsp_qamrx_carrier_present(const dsp_qamrx_t *s);
int dsp_qamrx_trained(const dsp_qamrx_t *s);
float dsp_qamrx_signal_power_dbm0(const dsp_qamrx_t *s);
float dsp_qamrx_snr_db(const dsp_qamrx_t *s);
/* The last n data symbols after the equaliser and carrier loop (fewer if
 * fewer were decided), oldest first, as re, im pairs; returns how many. */
int dsp_qamrx_symbols(const dsp_qamrx_t *s, float *re_im, int n);

#endif
