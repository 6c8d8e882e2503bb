/* v29_common.h: the V.29 signal space, shared by transmitter and receiver.
 *
 * V.29 §2: 2400 baud, carrier 1700 Hz.  Phase is differentially encoded in
 * steps of 45 degrees (Table 1, qam_diff.h); at 9600 bit/s Q1 picks the
 * amplitude (Table 2: relative amplitude 3 or 5 at 0/90/180/270 degrees,
 * sqrt(2) or 3 sqrt(2) at the odd multiples of 45); 7200 bit/s sends Q2Q3Q4
 * at the low amplitudes, 4800 bit/s sends Q2Q3 as 0/90/180/270-degree
 * changes.
 *
 * Training (§5): segment 1, 48 symbols of silence; segment 2, 128 symbols
 * alternating A B (A first); segment 3, 384 symbols of C or D picked by the
 * bits of the generator 1 + x^-6 + x^-7 seeded 0101010; segment 4, 48
 * symbols of scrambled ones.  Points per rate (Table 3):
 *   9600: A (-3,0)  B (3,-3)   C (3,0)  D (-3,3)
 *   7200: A (-3,0)  B (1,-1)   C (3,0)  D (-1,1)
 *   4800: A (-3,0)  B (0,-3)   C (3,0)  D (0,3)
 */
#ifndef FAXENGINE_V29_COMMON_H
#define FAXENGINE_V29_COMMON_H

#include "dsp_complex.h"

#define V29_BAUD 2400.0f
#define V29_CARRIER_HZ 1700.0f
#define V29_SEG1 48
#define V29_SEG2 128
#define V29_SEG3 384
#define V29_SEG4 48
#define V29_TEP_SYMBOLS 480         /* 200 ms of echo-protection tone, before segment 1 */

static inline cf_t v29_point(int phase, int high)
{
    static const float dir_re[8] = {1, 1, 0, -1, -1, -1, 0, 1};
    static const float dir_im[8] = {0, 1, 1, 1, 0, -1, -1, -1};
    /* amplitude 3 or 5 on the axes; on the diagonals (direction of length
     * sqrt(2)) 1 or 3 times that; a table, as random data makes a branch on
     * phase and amplitude a coin toss for the predictor */
    static const float radius[2][2] = {{3.0f, 5.0f}, {1.0f, 3.0f}};
    float r = radius[phase & 1][high & 1];
    return cf(dir_re[phase & 7] * r, dir_im[phase & 7] * r);
}

static inline int v29_bits_per_symbol(int rate) { return rate / 2400; }

static inline cf_t v29_alt_b(int rate)
{
    return rate == 9600 ? cf(3, -3) : rate == 7200 ? cf(1, -1) : cf(0, -3);
}

static inline cf_t v29_cond_d(int rate)
{
    return rate == 9600 ? cf(-3, 3) : rate == 7200 ? cf(-1, 1) : cf(0, 3);
}

/* The segment 3 generator: returns the next bit (0 -> C, 1 -> D). */
static inline int v29_training_bit(unsigned *reg)
{
    int bit = (int) (*reg & 1);
    *reg >>= 1;
    if ((unsigned) bit ^ (*reg & 1))
        *reg |= 0x40;
    return bit;
}
#define V29_TRAINING_SEED 0x2A

/* Average energy of the data constellation, for the transmit level. */
static inline float v29_mean_energy(int rate)
{
    return rate == 9600 ? 13.5f : rate == 7200 ? 5.5f : 9.0f;
}

#endif
