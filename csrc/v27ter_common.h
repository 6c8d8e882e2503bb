/* v27ter_common.h: the V.27ter signal space and training, shared by the
 * transmitter and the receiver.
 *
 * V.27ter §2: carrier 1800 Hz; 4800 bit/s is 8-phase differential PSK at
 * 1600 baud, tribits Q1Q2Q3 giving the phase change (Table 1); 2400 bit/s
 * is 4-phase at 1200 baud, dibits (Table 2); both tables in qam_diff.h.
 * The spectrum is shaped by a raised cosine of 50 % roll-off split equally
 * between transmitter and receiver.  Scrambler 1 + x^-6 + x^-7 with its guard
 * against repetitive patterns (scrambler.h).
 *
 * Training (§2.5, Table 3), at either rate:
 *   segment 1  unmodulated carrier, 185-200 ms: the talker echo protection,
 *              optional (`tep`; T.30 leaves it off by default);
 *   segment 2  20 ms of silence;
 *   segment 3  continuous 180-degree reversals: 50 symbols (long training,
 *              what T.30 uses) or 14 (short);
 *   segment 4  the equaliser conditioning pattern, 1074 symbols (long) or 58
 *              (short): phase changes of 0 or 180 degrees, the first of each
 *              three bits of the scrambler fed with ones from the state 0111100;
 *   segment 5  8 symbols of scrambled ones; data follow.
 */
#ifndef FAXENGINE_V27TER_COMMON_H
#define FAXENGINE_V27TER_COMMON_H

#include <math.h>

#include "dsp_complex.h"
#include "scrambler.h"

#define V27TER_CARRIER_HZ 1800.0f
#define V27TER_SEG3_LONG 50
#define V27TER_SEG3_SHORT 14
#define V27TER_SEG4_LONG 1074
#define V27TER_SEG4_SHORT 58
#define V27TER_SEG5 8
#define V27TER_TRAINING_SEED 0x3C

static inline float v27ter_baud(int rate) { return rate == 4800 ? 1600.0f : 1200.0f; }
static inline int v27ter_bits_per_symbol(int rate) { return rate == 4800 ? 3 : 2; }

static inline cf_t v27ter_point(int phase)
{
    static const float re[8] = {1, 0.70710678f, 0, -0.70710678f, -1, -0.70710678f, 0, 0.70710678f};
    static const float im[8] = {0, 0.70710678f, 1, 0.70710678f, 0, -0.70710678f, -1, -0.70710678f};
    return cf(re[phase & 7], im[phase & 7]);
}

/* One symbol of segment 4: returns 1 when its phase changes by 180 degrees. */
static inline int v27ter_training_reversal(scrambler_t *scr)
{
    int bit = v27ter_scramble(scr, 1);
    v27ter_scramble(scr, 1);
    v27ter_scramble(scr, 1);
    return bit;
}

#endif
