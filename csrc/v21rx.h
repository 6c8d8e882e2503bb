/*
 * v21rx.h: V.21 FSK receiver (300 bit/s), with carrier detect and bit timing.
 *
 * How it works, per sample:
 *  - Carrier detect: the signal goes through a band-pass (two biquads around
 *    the channel centre) and a one-pole power meter; the carrier is ON above
 *    on_level and OFF below off_level (V.21 §7: ON at -43 dBm0 or more, OFF
 *    below -48 dBm0, with hysteresis).  The meter is calibrated so a tone at
 *    the mark or space frequency reads its true mean square.
 *  - Demodulation: two quadrature correlators, one per tone, each the sum of
 *    the signal mixed down to 0 Hz over the last V21RX_WINDOW samples.
 *    d = |mark|^2 - |space|^2 is the soft decision, independent of the
 *    carrier phase (non-coherent).  The window is 40 samples (5 ms, 1.5 bit),
 *    not one bit: over 5 ms the two tones, 200 Hz apart, are orthogonal, so
 *    neither correlator hears the other tone; over one bit (h = 2/3) each
 *    would leak 40 % of the other's amplitude.  Measured: at 0 dB SNR the
 *    bit error rate falls from 2e-3 (27 samples) to 1e-4 (40 samples); the
 *    extra intersymbol interference costs less than the leakage did.
 *  - Bit timing: a digital PLL.  d crosses zero when the window straddles a
 *    bit edge evenly; the best decision instant is one bit later, when the
 *    window is centred on the bit.  The bit clock (units of 1/8000 bit, 300 per
 *    sample) wants its zero crossings at mid-count; each crossing, located to
 *    a fraction of a sample by interpolation, pulls the clock by a fraction
 *    of the error: fully at the first crossing after carrier ON, then 1/2,
 *    then a small steady gain that averages out noise.
 *  - Bits are sliced from d interpolated at the decision instant, and emitted
 *    only while the carrier is ON.
 * All state lives here, so any split of the input gives the same bits.
 */
#ifndef FAXENGINE_V21RX_H
#define FAXENGINE_V21RX_H

#include <stddef.h>
#include <stdint.h>

#define V21RX_WINDOW 40

typedef struct {
    /* local oscillators: index 0 space, 1 mark */
    double lo_re[2], lo_im[2];
    double step_re[2], step_im[2];
    /* sliding correlators: the mixed samples of the window, both tones of
     * one sample side by side (hist_re[pos][k]: the vector code takes them
     * as one pair) */
    double hist_re[V21RX_WINDOW][2], hist_im[V21RX_WINDOW][2];
    double sum_re[2], sum_im[2];
    int pos;
    /* band-pass (two biquads: b0, b1, b2, a1, a2) and power meter */
    double bq[2][5];
    double bz[2][2];
    double band_gain;     /* mean |H|^2 at the two tones */
    double power;         /* filtered mean square */
    double power_alpha;
    double on_level, off_level;   /* mean squares */
    int carrier;
    /* bit timing */
    double prev_d;
    double clock;         /* 0..8000 per bit */
    int crossings;        /* zero crossings since carrier ON */
    double steady_gain;
    /* statistics */
    long bits_out;
    int allocated;        /* v21rx_init allocated the state: v21rx_free frees it */
} v21rx_state_t;

/* The lifecycle every modem of csrc/ has (spandsp's *_init/_restart/_free):
   init sets up caller memory s (v21rx_state_size() bytes), or with s NULL
   allocates it, and returns s (NULL when out of memory); restart takes it
   back to its start in the same memory (the carrier detector too); free
   releases what init allocated and returns 0.
   on_level, off_level: carrier thresholds as mean squares (int16 units). */
size_t v21rx_state_size(void);
v21rx_state_t *v21rx_init(v21rx_state_t *s, double mark_hz, double space_hz,
                          double on_level, double off_level);
void v21rx_restart(v21rx_state_t *s);
int v21rx_free(v21rx_state_t *s);

/* Most bits v21rx_rx can produce from len samples: never more than one a
   sample, even while the clock is pulled hard (about 300/8000 a sample). */
#define V21RX_MAX_BITS(len) (len)

/* Demodulate len samples; write the bits recovered into bits (room for
   V21RX_MAX_BITS(len)).  Returns the number of bits written. */
int v21rx_rx(v21rx_state_t *s, const int16_t *amp, int len, uint8_t *bits);

/* len samples that never arrived (a lost packet), as spandsp's fillin: the
   carrier detector holds its state, the oscillators and the bit clock move
   on by len samples without correction, zeros go through the correlators;
   the bits sliced over the hole (while the carrier is on) go to bits (room
   for V21RX_MAX_BITS(len)), so the bits after it keep their place.
   Returns how many. */
int v21rx_rx_fillin(v21rx_state_t *s, int len, uint8_t *bits);

/* The power meter's reading, a mean square in int16 units. */
double v21rx_power(const v21rx_state_t *s);

#endif
