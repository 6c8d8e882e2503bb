/* qam_diff.h: the differential phase coding that V.29 and V.27ter share,
 * between the scrambler and the signal points.
 *
 * Both code the change of phase from one symbol to the next in steps of 45
 * degrees, with the same Gray tables:
 *   tribits (V.29 Table 1 Q2Q3Q4, V.27ter Table 1 Q1Q2Q3):
 *     001 0, 000 45, 010 90, 011 135, 111 180, 110 225, 100 270, 101 315;
 *   dibits (V.29 at 4800 bit/s Q2Q3, V.27ter Table 2):
 *     00 0, 01 90, 11 180, 10 270 degrees.
 * At 9600 bit/s V.29 sends a fourth bit first, Q1, which picks the amplitude
 * (V.29 Table 2) and is not differentially coded.
 *
 * The bits of one symbol travel as a number q, the first bit on the line
 * the most significant: its low `step_bits` bits (2 or 3) code the phase
 * change, a bit above them (V.29's Q1) the amplitude.  The decoder also
 * descrambles, with the modem's descrambler handed in as a constant that
 * the compiler inlines.
 */
#ifndef FAXENGINE_QAM_DIFF_H
#define FAXENGINE_QAM_DIFF_H

#include <stdint.h>

#include "scrambler.h"

/* phase step (45-degree units) of a tribit and of a dibit read as numbers;
 * the dibit's table repeats, so that both are indexed by the low three bits
 * of q whatever sits above the phase bits */
static const int qam_phase_step_tribit[8] = {1, 0, 2, 3, 6, 7, 5, 4};
static const int qam_phase_step_dibit[8] = {0, 2, 6, 4, 0, 2, 6, 4};

/* The table of symbols with step_bits (2 or 3) phase bits. */
static inline const int *qam_phase_steps(int step_bits)
{
    return step_bits == 3 ? qam_phase_step_tribit : qam_phase_step_dibit;
}

/* The phase (45-degree units) after a symbol whose bits are q, with the table
 * of its rate (qam_phase_steps(), chosen once). */
static inline int qam_diff_next_phase(int phase, int q, const int *steps)
{
    return (phase + steps[q & 7]) & 7;
}

typedef struct {
    int bps;                /* data bits a symbol */
    int step_bits;          /* of them, those that code the phase change */
    int prev_phase;         /* of the last symbol, 45-degree units */
    int bits_of_step[8];    /* the inverse of the phase step table */
    scrambler_t descr;
} qam_diff_rx_t;

static inline void qam_diff_rx_init(qam_diff_rx_t *d, int bps, int step_bits)
{
    *d = (qam_diff_rx_t) {.bps = bps, .step_bits = step_bits};
    for (int q = 0; q < (1 << step_bits); q++)
        d->bits_of_step[qam_phase_steps(step_bits)[q]] = q;
}

/* The symbol of this phase and amplitude bit (0 where the rate has none) to
 * data bits: bps of them into out when deliver (else only the descrambler
 * runs); returns how many were delivered. */
static inline int qam_diff_rx_bits(qam_diff_rx_t *d, int phase, int amp_bit, uint8_t *out, int deliver,
                                   int (*descramble)(scrambler_t *, int))
{
    int q = (amp_bit << d->step_bits) | d->bits_of_step[(phase - d->prev_phase) & 7];
    d->prev_phase = phase;
    for (int i = 0; i < d->bps; i++) {
        int bit = descramble(&d->descr, (q >> (d->bps - 1 - i)) & 1);
        if (deliver)
            out[i] = (uint8_t) bit;
    }
    return deliver ? d->bps : 0;
}

#endif
