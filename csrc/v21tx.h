/*
 * v21tx.h: V.21 FSK transmitter (300 bit/s, continuous phase).
 *
 * V.21 §2: channel 2 (the one T.30 uses) sends a 1 (mark) as 1650 Hz and a 0
 * (space) as 1850 Hz; channel 1 uses 980/1180 Hz.  The phase never jumps: a
 * 32-bit phase accumulator moves on sample by sample by the step of the
 * current bit's frequency (exact to 2e-6 Hz, no rounding carried from one
 * sample to the next), and the shared sine table of dsp_carrier.h turns it
 * into the sample.  At 8000 samples/s a bit lasts 80/3 samples; a counter in units of
 * 1/8000 bit advanced by 300 per sample places every bit edge on the sample
 * it belongs to (sample n carries bit floor(300 n / 8000)), so no drift ever
 * accumulates.
 */
#ifndef FAXENGINE_V21TX_H
#define FAXENGINE_V21TX_H

#include <stddef.h>
#include <stdint.h>

#define V21_SAMPLE_RATE 8000
#define V21_BAUD 300
/* Samples of the ramp that ends a transmission, so it stops without a click. */
#define V21TX_RAMP_SAMPLES 16
/* Most samples one bit can take. */
#define V21TX_MAX_SAMPLES_PER_BIT 27

typedef struct {
    uint32_t phase;           /* carrier phase, a turn is 2^32 */
    uint32_t step[2];         /* per-sample phase step for a 0 (space) and a 1 (mark) */
    float amp;                /* peak amplitude, int16 units */
    int clock;                /* position in the current bit, 0..7999 (units of 1/8000 bit) */
    int last_bit;
    int allocated;            /* v21tx_init allocated the state: v21tx_free frees it */
} v21tx_state_t;

/* The lifecycle every modem of csrc/ has (spandsp's *_init/_restart/_free):
   init sets up caller memory s (v21tx_state_size() bytes), or with s NULL
   allocates it, and returns s (NULL when out of memory); restart takes it
   back to its start in the same memory; free releases what init allocated
   and returns 0.
   mark_hz, space_hz: 1650/1850 for channel 2.  amp: sine peak in int16 units. */
size_t v21tx_state_size(void);
v21tx_state_t *v21tx_init(v21tx_state_t *s, double mark_hz, double space_hz, double amp);
void v21tx_restart(v21tx_state_t *s);
int v21tx_free(v21tx_state_t *s);

/* Modulate nbits bits into amp (room for V21TX_MAX_SAMPLES_PER_BIT * nbits).
   Returns the number of samples written: every sample whose bit is known. */
int v21tx_tx(v21tx_state_t *s, const uint8_t *bits, int nbits, int16_t *amp);

/* The turn-off: V21TX_RAMP_SAMPLES of the last tone fading out.  The next
   v21tx_tx starts a new transmission.  Returns the number of samples. */
int v21tx_finish(v21tx_state_t *s, int16_t *amp);

#endif
