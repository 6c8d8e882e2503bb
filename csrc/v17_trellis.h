/*
 * v17_trellis.h - the trellis code of ITU-T V.17: signal constellations,
 * differential encoding, the 8-state systematic convolutional encoder and a
 * soft-decision Viterbi decoder over it.
 *
 * V.17 §3 (as V.32 and V.33): each symbol carries 3..6 scrambled bits
 * Q1n Q2n Q3n ...  The first two, Q1n Q2n, are differentially encoded into
 * Y1n Y2n (a modulo-4 addition, which makes the code transparent to 90 degree
 * rotations); Y1n Y2n feed the 8-state convolutional encoder, whose redundant
 * bit Y0n, with Y1n Y2n and the uncoded Q3n.., selects one point of the 16,
 * 32, 64 or 128 point constellation.
 *
 * A symbol's label, as used throughout: bit 0 = Y0, bit 1 = Y1, bit 2 = Y2,
 * bits 3.. = Q3, Q4, ...  (label & 7) names the subset (coset) of the set
 * partitioning; the points of one subset are far apart (d^2 = 8x the minimum
 * distance of the whole constellation), which is where the coding gain
 * comes from.
 */
#ifndef FAXENGINE_V17_TRELLIS_H
#define FAXENGINE_V17_TRELLIS_H

#include <stdint.h>

/* Longest traceback of the Viterbi decoder, in symbols. */
#define V17_VITERBI_MAX_DEPTH 64
/* Labels are released this many at a time, from one traceback. */
#define V17_VITERBI_BLOCK 8
#define V17_VITERBI_RING (V17_VITERBI_MAX_DEPTH + V17_VITERBI_BLOCK)

/* Constellation points are kept on the integer grid of V.17 Figure 2; all
 * four constellations, and the training points A B C D, have about the same
 * mean energy on that grid (40..42), so one scale serves every rate. */
typedef struct {
    int8_t re;
    int8_t im;
} v17_point_t;

/* A constellation with everything the receiver needs to slice it. */
typedef struct {
    int rate;                 /* bit/s */
    int bits_per_symbol;      /* data bits per symbol: 3..6 */
    int points;               /* 2^(bits_per_symbol + 1) */
    const v17_point_t *map;   /* label -> point */
    float mean_energy;        /* over all points, on the integer grid */
    int min_distance2;        /* least squared distance between two points */
} v17_constellation_t;

/* The constellation of a data rate, or NULL for a rate V.17 does not have. */
const v17_constellation_t *v17_constellation(int rate);

/* The training points A, B, C, D of V.17 §8 (Table 3), on the same grid. */
extern const v17_point_t v17_abcd[4];

/* Scrambler of V.17 §5, 1 + x^-18 + x^-23, self-synchronising; the
 * register holds the last 23 line bits, newest in bit 0. */
static inline int v17_scramble(uint32_t *reg, int bit)
{
    int out = (bit ^ (int) (*reg >> 17) ^ (int) (*reg >> 22)) & 1;
    *reg = (*reg << 1) | (uint32_t) out;
    return out;
}

static inline int v17_descramble(uint32_t *reg, int bit)
{
    int out = (bit ^ (int) (*reg >> 17) ^ (int) (*reg >> 22)) & 1;
    *reg = (*reg << 1) | (uint32_t) (bit & 1);
    return out;
}

/* The known part of the training (V.17 §8, Table 3), as indexes into
 * v17_abcd: segment 2 is scrambled binary ones, two bits a symbol onto
 * C D B A (00 C, 01 D, 10 B, 11 A), with the scrambler starting from
 * V17_SCRAMBLER_SEED; segment 3, the bridge, scrambles the repeating word
 * 0x8880 two bits a symbol, each dibit turning the point on by 1, 0, 2 or 3
 * quarters (00, 01, 10, 11).  The scrambler then runs on into segment 4 and
 * the data. */
#define V17_SCRAMBLER_SEED 0x2ECDD5u
#define V17_SEG1_SYMBOLS 256
#define V17_SEG2_LONG_SYMBOLS 2976
#define V17_SEG2_SHORT_SYMBOLS 38
#define V17_SEG3_SYMBOLS 64
#define V17_SEG4_SYMBOLS 48

typedef struct {
    uint32_t scramble;
    int abcd;           /* the last point sent */
    int bridge;         /* bridge symbols sent */
} v17_training_t;

void v17_training_init(v17_training_t *t);
int v17_training_seg2(v17_training_t *t);
int v17_training_bridge(v17_training_t *t);

/* Trellis encoder state: the differential encoder's last Y1 Y2 and the three
 * delay elements of the convolutional encoder. */
typedef struct {
    int diff;   /* Y1 + 2*Y2 of the previous symbol */
    int conv;   /* 0..7 */
} v17_trellis_enc_t;

void v17_trellis_enc_init(v17_trellis_enc_t *e, int diff, int conv);

/* Encode the data bits of one symbol: q holds Q1 in bit 0, Q2 in bit 1,
 * Q3.. in bits 2..  Returns the label (see above). */
int v17_trellis_encode(v17_trellis_enc_t *e, int q);

/* The next state of the convolutional encoder from `state` when the
 * differential encoder outputs y = Y1 + 2*Y2; the redundant bit Y0 sent
 * with that symbol is bit 0 of `state`. */
int v17_conv_next(int state, int y);

/* 0 when the decoder's constant trellis tables (the branches into each
 * state, v17_trellis.c) agree with v17_conv_next, else -1: for the tests. */
int v17_trellis_check(void);

/* Soft-decision Viterbi decoder over the 8-state trellis.
 *
 * For every symbol the decoder finds, in each of the 8 subsets, the point
 * nearest to the received (equalised, scaled to the integer grid) point;
 * the squared Euclidean distances are the branch metrics, and the uncoded
 * bits of the nearest point ride along the branch (parallel transitions are
 * resolved per symbol).  Every V17_VITERBI_BLOCK symbols the survivor of
 * the best state is traced back and the labels `depth` - 1 or more symbols
 * old are released, a block at a time (one traceback serves the block).
 * The four branches into a state carry four different subsets, so a
 * survivor's label names the state it came from too: only labels are
 * kept. */
typedef struct {
    const v17_constellation_t *c;
    int depth;
    int pending;                /* symbols pushed and not yet released */
    int pos;                    /* ring position of the newest symbol */
    float metric[8];
    /* per symbol and state: the label of the survivor's branch (the
     * nearest point of the branch's subset) */
    uint8_t label[V17_VITERBI_RING][8];
    /* the constellation's points as floats, label -> (re, im) */
    float point[128][2];
    /* slicing look-up: for a grid cell, the nearest point of each subset */
    int grid_n;
    float grid_lo;
    float grid_step;
    const uint8_t *grid;        /* grid_n * grid_n * 8 labels, shared by the rate's decoders */
} v17_viterbi_t;

/* depth in 1..V17_VITERBI_MAX_DEPTH.  Returns 0, or -1 for a bad rate or
 * depth or when out of memory.
 *
 * The slicing grid depends on the rate alone: the first init at a rate in
 * the process builds it (about 5 M instructions at 14 400 bit/s), every
 * later one shares it, so an init costs a memset.  Safe from any thread,
 * with or without a GIL: the grid is published with an atomic
 * compare-and-swap (builders that race both build, one copy wins, the other
 * is freed) and is read-only afterwards.  The grids live until the process
 * ends; v17_viterbi_free never frees them. */
int v17_viterbi_init(v17_viterbi_t *v, int rate, int depth);
/* How many slicing grids this process has built (one per rate used, or a
 * few more if first inits raced): for tests that construction shares them. */
int v17_viterbi_grid_builds(void);
/* Forget the past; every state starts equally likely. */
void v17_viterbi_restart(v17_viterbi_t *v);
void v17_viterbi_free(v17_viterbi_t *v);

/* Push one received point (re, im on the integer grid).  Writes the labels
 * it releases to out (oldest first, room for V17_VITERBI_BLOCK) and
 * returns how many: 0 or V17_VITERBI_BLOCK.  *nearest_label, when not NULL,
 * receives the label of the nearest point of the whole constellation (a
 * tentative decision for decision-directed adaptation, without delay). */
int v17_viterbi_push(v17_viterbi_t *v, float re, float im, int *nearest_label, int *out);

/* Release the labels still held (oldest first), best survivor; returns how
 * many were written to out (fewer than depth + V17_VITERBI_BLOCK).  The
 * decoder is restarted. */
int v17_viterbi_flush(v17_viterbi_t *v, int *out);

/* Differential decoding (inverse of V.17 Table 1): Q1 + 2*Q2 from this and
 * the previous symbol's Y1 + 2*Y2. */
static inline int v17_diff_decode(int y, int y_prev)
{
    return (y - y_prev) & 3;
}

#endif
