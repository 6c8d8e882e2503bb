/*
 * v17tx.h - ITU-T V.17 transmitter (see v17tx.c).
 */
#ifndef FAXENGINE_V17TX_H
#define FAXENGINE_V17TX_H

#include <stddef.h>
#include <stdint.h>

#include "dsp_filter.h"
#include "v17_trellis.h"

/* Symbols spanned by the transmit pulse (root raised cosine, beta 0.25). */
#define V17_TX_TAPS 12
/* Sub-sample phases: 8000 samples/s and 2400 symbols/s meet at 24 000/s,
 * 10 ticks per symbol, 3 per sample. */
#define V17_TX_PHASES 10
/* Samples after which the filter phase and the 1800 Hz carrier repeat:
 * the shaper's table has this many rows (held in the state: no heap). */
#define V17_TX_PERIOD 40

typedef struct {
    const v17_constellation_t *c;
    int short_train;
    int tep;
    int segment;            /* enum seg in v17tx.c */
    int count;              /* symbols sent in this segment */
    v17_training_t train;   /* segments 2 and 3, and the scrambler after them */
    v17_trellis_enc_t enc;
    dsp_shaper_t sh;        /* pulse shaping and carrier, its table in mix */
    float mix[V17_TX_PERIOD * 2 * DSP_SHAPER_TAPS];
    int npending;           /* data bits waiting for a whole symbol */
    uint8_t pending[8];
    int finishing;
    int allocated;          /* v17_tx_init allocated the state: v17_tx_free frees it */
} v17_tx_state_t;

/* The lifecycle every modem of csrc/ has (spandsp's *_init/_restart/_free):
 *   v17_tx_init(s, ...)     sets up caller memory s (v17_tx_state_size()
 *                           bytes), or with s NULL allocates it (and
 *                           v17_tx_free frees it); returns s, or NULL for a
 *                           rate V.17 does not have or when out of memory.
 *   v17_tx_restart(s, ...)  the state as init leaves it, for a new
 *                           transmission (any rate, training, level), in the
 *                           same memory; 0, or -1 for a bad rate (s unchanged).
 *   v17_tx_free(s)          releases what init allocated; 0.
 * tep: send the talker echo protection tone first; short_train: the short
 * (resync) training of V.17 §8 instead of the long one. */
size_t v17_tx_state_size(void);
v17_tx_state_t *v17_tx_init(v17_tx_state_t *s, int rate, int short_train, int tep, float power_dbm0);
int v17_tx_restart(v17_tx_state_t *s, int rate, int short_train, int tep, float power_dbm0);
int v17_tx_free(v17_tx_state_t *s);

/* Upper bound of the samples v17_tx() yields for nbits more bits, and of
 * those v17_tx_finish() yields. */
int v17_tx_max_samples(const v17_tx_state_t *s, int nbits);
int v17_tx_finish_max_samples(const v17_tx_state_t *s);

/* Modulate: the rest of the training, then these bits (0/1, in order).  Bits
 * short of a whole symbol wait for the next call.  amp must hold
 * v17_tx_max_samples(s, nbits); returns the samples written, or -1 after
 * v17_tx_finish(). */
int v17_tx(v17_tx_state_t *s, const uint8_t *bits, int nbits, int16_t *amp, int max_len);

/* Turn-off: the last partial symbol padded with ones, 32 symbols of
 * scrambled ones (they also flush the receiver's Viterbi traceback), then
 * 48 symbols of silence.  Returns the samples written. */
int v17_tx_finish(v17_tx_state_t *s, int16_t *amp, int max_len);

#endif
