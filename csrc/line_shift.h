/* Carrier offset of the line model: shift every frequency of a real signal by
 * the same number of hertz, as a frequency-division multiplex carrier that is
 * off by some hertz does (G.151/G.225 allow a few hertz; V.29/V.27ter receivers
 * must hold lock through ±10 Hz).
 *
 * How: the analytic signal x + j·H{x} is formed with an odd-length windowed
 * Hilbert FIR (the real part is the input delayed by the FIR's half length),
 * multiplied by exp(j·2π·f·n/8000) and its real part taken:
 *     y[n] = x[n-D]·cos φ[n] − H{x}[n]·sin φ[n].
 * The output has the input's length and a delay of D = (taps-1)/2 samples.
 * State (FIR history, oscillator phase) carries across blocks, so any split of
 * the input into blocks gives the same output.
 */
#ifndef FAXENGINE_LINE_SHIFT_H
#define FAXENGINE_LINE_SHIFT_H

#include <stdint.h>

/* Taps of the Hilbert FIR (Kaiser β = 8): from 100 Hz to 3900 Hz the shifted
 * tone keeps its level within 0.001 dB and the unwanted image stays more than
 * 80 dB down, so a telephone-band signal is shifted unharmed. */
#define LINE_SHIFT_TAPS 255
#define LINE_SHIFT_DELAY ((LINE_SHIFT_TAPS - 1) / 2)
/* The taps at odd distance from the centre, the only non-zero ones, reach
 * back x[n], x[n-2], ..., x[n-254]: samples of n's own parity.  So the input
 * is kept as two histories, even and odd samples, and each output is one
 * contiguous dot product over LINE_SHIFT_NZ samples. */
#define LINE_SHIFT_NZ ((LINE_SHIFT_TAPS + 1) / 2)   /* 128: a multiple of 4 */

typedef struct {
    double coef[LINE_SHIFT_NZ];     /* coef[j] applies to x[n - 2j] */
    /* hist[p]: the last NZ samples of parity p, written twice (at i and
     * i + NZ) so that a window never wraps */
    double hist[2][2 * LINE_SHIFT_NZ];
    int pos[2];                     /* next write position in hist[p][0..NZ) */
    int parity;                     /* parity of the next sample's index */
    double phase;                   /* oscillator phase, radians in [0, 2π) */
    double step;                    /* phase step per sample */
} line_shift_state_t;

void line_shift_init(line_shift_state_t *s, double offset_hz, double sample_rate);
void line_shift_free(line_shift_state_t *s);
/* Shift len samples of in into out (may be the same buffer); returns len. */
int line_shift_process(line_shift_state_t *s, const double *in, double *out, int len);

#endif
