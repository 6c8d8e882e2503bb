/*
 * v17rx.h - ITU-T V.17 receiver (see v17rx.c).
 */
#ifndef FAXENGINE_V17RX_H
#define FAXENGINE_V17RX_H

#include <stddef.h>
#include <stdint.h>

#include "dsp_agc.h"
#include "dsp_carrier.h"
#include "dsp_complex.h"
#include "dsp_equalizer.h"
#include "dsp_filter.h"
#include "dsp_symtap.h"
#include "dsp_timing.h"
#include "v17_trellis.h"

/* Decision delay of the Viterbi decoder, symbols. */
#define V17_RX_TRACEBACK 32
/* Segment 2 is recognised by this many of its symbols after the last
 * 8 of segment 1: its start, C D C D.., is A B A B.. turned half round. */
#define V17_RX_SEG2_MATCH 16
#define V17_RX_MATCH (8 + V17_RX_SEG2_MATCH)
/* T/2 taps of the equaliser: 8 symbols each side of the centre. */
#define V17_RX_EQ_LEN (4 * 8 + 1)

typedef struct {
    const v17_constellation_t *c;
    int state;                  /* enum rx_state in v17rx.c */
    int trained;                /* the equaliser holds a trained channel */
    int count;                  /* symbols (or T/2 samples) in this state */
    int filling;                /* inside v17_rx_fillin */
    int lost;                   /* T/2 samples the filters still hold zeros of a hole */
    int64_t nsamples;           /* input samples taken */
    /* front end */
    dsp_power_detector_t pd;
    dsp_bandpass_t bp;
    dsp_carrier_t nco;
    double t;                   /* next T/2 instant, samples after the newest input */
    double last_instant;        /* absolute time of the previous T/2 instant */
    int on_symbol;              /* the next T/2 sample is at a symbol centre */
    cf_t prev_on, mid;          /* Gardner's samples */
    dsp_timing_loop_t tloop;
    dsp_alternation_t alt;
    dsp_equalizer_t eq;
    /* the equaliser as it was while decisions were good (see v17rx.c):
     * what a short training starts from */
    cf_t eq_kept[V17_RX_EQ_LEN];
    cf_t eq_cand[V17_RX_EQ_LEN];   /* taken at a good window, kept after the next */
    float clock_kept, clock_cand;  /* the timing loop's integral with them */
    int kept_ok, cand_ok;
    float good_err;             /* decision error power under which a window is good */
    float window_err;           /* sum of |error|^2 of the decisions in the window */
    /* post-equaliser carrier phase tracking (second order) */
    float phase, dphase;
    /* segment 1 estimates */
    cf_t u_hist[2];
    cf_t acc, acc2;
    /* segment 2 recognition and the known training */
    uint8_t pattern[V17_RX_MATCH];
    uint8_t recent[V17_RX_MATCH];
    v17_training_t train;
    cf_t held[8];               /* segment 2 or 4? symbols held till it is known */
    int nheld;
    int held_lost;              /* of them, lost (v17_rx_fillin) */
    /* data */
    v17_viterbi_t vit;
    int skip;                   /* segment 4 labels still to drop */
    int y_prev;
    uint32_t descramble;
    /* what it sees */
    float err_power;            /* mean |error|^2 of the decisions */
    float sig_power;            /* mean |decision|^2 */
    int window_n;               /* symbols in the current report window */
    float window_low;           /* lowest out_power in it */
    cf_t snr_snap[2];           /* (sig, err) of the last two good windows */
    float out_power;            /* mean |output|^2, fast: has the signal ended? */
    dsp_symtap_t tap;           /* the data symbols the decoder took, for diagrams */
    int allocated;              /* v17_rx_init allocated the state: v17_rx_free frees it */
} v17_rx_state_t;

/* The lifecycle every modem of csrc/ has (spandsp's *_init/_restart/_free):
 *   v17_rx_init(s, rate)    sets up caller memory s (v17_rx_state_size()
 *                           bytes), or with s NULL allocates it (and
 *                           v17_rx_free frees it); returns s, or NULL for a
 *                           rate V.17 does not have or when out of memory.
 *   v17_rx_restart(s, rate, short_train)
 *                           wait for a new signal at `rate`, in the same
 *                           memory and buffers.  short_train 0: everything
 *                           as init leaves it (a new call).  1: keep the
 *                           trained channel (the equaliser as it was while
 *                           decisions were good, the clock difference) and
 *                           the carrier detector, so a short training (T.30:
 *                           later pages of the call) can follow; the
 *                           receiver still tells a long training from a
 *                           short one itself.  0, or -1 for a bad rate (s
 *                           unchanged) or when out of memory.
 *   v17_rx_free(s)          releases what init allocated; 0. */
size_t v17_rx_state_size(void);
v17_rx_state_t *v17_rx_init(v17_rx_state_t *s, int rate);
int v17_rx_restart(v17_rx_state_t *s, int rate, int short_train);
int v17_rx_free(v17_rx_state_t *s);

/* Room v17_rx() needs for the bits of `len` samples: at most 6 bits a
 * symbol and 0.3 symbols a sample, plus what the Viterbi decoder holds
 * back and releases at once. */
#define V17_RX_MAX_BITS(len) (2 * (len) + 6 * (V17_VITERBI_RING + 16))

/* Demodulate `len` samples; the data bits found (0/1, in order) go to
 * bits, which must hold V17_RX_MAX_BITS(len).  Returns how many. */
int v17_rx(v17_rx_state_t *s, const int16_t *amp, int len, uint8_t *bits);

/* `len` samples that never arrived (a lost packet): the carrier is kept,
 * timing and carrier phase move on by len samples, nothing adapts; the bits
 * decided on the hole go to bits (room for V17_RX_MAX_BITS(len)), so the
 * data after it keeps its place.  Returns how many. */
int v17_rx_fillin(v17_rx_state_t *s, int len, uint8_t *bits);

/* Reports. */
int v17_rx_carrier_present(const v17_rx_state_t *s);
int v17_rx_in_data(const v17_rx_state_t *s);
float v17_rx_snr_db(const v17_rx_state_t *s);
float v17_rx_power_dbm0(const v17_rx_state_t *s);
float v17_rx_carrier_offset_hz(const v17_rx_state_t *s);
/* The last n data symbols the Viterbi decoder took (fewer if fewer came),
 * oldest first, as re, im pairs on the integer grid; returns how many. */
int v17_rx_symbols(const v17_rx_state_t *s, float *re_im, int n);

#endif
