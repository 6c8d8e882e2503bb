/*
 * v17_trellis.c - constellations, trellis encoder and soft-decision Viterbi
 * decoder of ITU-T V.17 (see v17_trellis.h for the labels and the API).
 *
 * The encoder is the 8-state systematic feedback encoder of V.17 Figure 3
 * (the nonlinear, 90-degree transparent code V.32 and V.33 share).  Its
 * three delay elements w1 w2 w3 advance, for the differentially encoded
 * bits Y1 Y2, as
 *     w1' = Y2 ^ w2 ^ (Y1 & w1)
 *     w2' = Y1 ^ Y2 ^ w3 ^ (w1 & (Y2 ^ w2))
 *     w3' = w1
 * and the redundant bit sent with Y1 Y2 is Y0 = w1.  So from a state the
 * four branches (Y1 Y2 = 0..3) all carry the same Y0, and every state is
 * entered by four branches from four different states.
 *
 * The decoder computes, per received point, the distance to the nearest
 * point of each of the 8 subsets (label & 7) with a look-up grid over the
 * signal plane, then runs add-compare-select over the 32 branches and a
 * fixed-delay traceback.
 */
#include "v17_trellis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* V.17 Figure 2 (labels as in v17_trellis.h); each subset (label & 7) has 8x
 * the minimum squared distance of its constellation (pinned by the tests). */
static const v17_point_t map_14400[128] = {
    {-8, -3}, { 9,  2}, { 2, -9}, {-3,  8}, { 8,  3}, {-9, -2}, {-2,  9}, { 3, -8},
    {-8,  1}, { 9, -2}, {-2, -9}, { 1,  8}, { 8, -1}, {-9,  2}, { 2,  9}, {-1, -8},
    {-4, -3}, { 5,  2}, { 2, -5}, {-3,  4}, { 4,  3}, {-5, -2}, {-2,  5}, { 3, -4},
    {-4,  1}, { 5, -2}, {-2, -5}, { 1,  4}, { 4, -1}, {-5,  2}, { 2,  5}, {-1, -4},
    { 4, -3}, {-3,  2}, { 2,  3}, {-3, -4}, {-4,  3}, { 3, -2}, {-2, -3}, { 3,  4},
    { 4,  1}, {-3, -2}, {-2,  3}, { 1, -4}, {-4, -1}, { 3,  2}, { 2, -3}, {-1,  4},
    { 0, -3}, { 1,  2}, { 2, -1}, {-3,  0}, { 0,  3}, {-1, -2}, {-2,  1}, { 3,  0},
    { 0,  1}, { 1, -2}, {-2, -1}, { 1,  0}, { 0, -1}, {-1,  2}, { 2,  1}, {-1,  0},
    { 8, -3}, {-7,  2}, { 2,  7}, {-3, -8}, {-8,  3}, { 7, -2}, {-2, -7}, { 3,  8},
    { 8,  1}, {-7, -2}, {-2,  7}, { 1, -8}, {-8, -1}, { 7,  2}, { 2, -7}, {-1,  8},
    {-4, -7}, { 5,  6}, { 6, -5}, {-7,  4}, { 4,  7}, {-5, -6}, {-6,  5}, { 7, -4},
    {-4,  5}, { 5, -6}, {-6, -5}, { 5,  4}, { 4, -5}, {-5,  6}, { 6,  5}, {-5, -4},
    { 4, -7}, {-3,  6}, { 6,  3}, {-7, -4}, {-4,  7}, { 3, -6}, {-6, -3}, { 7,  4},
    { 4,  5}, {-3, -6}, {-6,  3}, { 5, -4}, {-4, -5}, { 3,  6}, { 6, -3}, {-5,  4},
    { 0, -7}, { 1,  6}, { 6, -1}, {-7,  0}, { 0,  7}, {-1, -6}, {-6,  1}, { 7,  0},
    { 0,  5}, { 1, -6}, {-6, -1}, { 5,  0}, { 0, -5}, {-1,  6}, { 6,  1}, {-5,  0},
};

static const v17_point_t map_12000[64] = {
    { 7,  1}, {-5, -1}, {-1,  5}, { 1, -7}, {-7, -1}, { 5,  1}, { 1, -5}, {-1,  7},
    { 3, -3}, {-1,  3}, { 3,  1}, {-3, -3}, {-3,  3}, { 1, -3}, {-3, -1}, { 3,  3},
    { 7, -7}, {-5,  7}, { 7,  5}, {-7, -7}, {-7,  7}, { 5, -7}, {-7, -5}, { 7,  7},
    {-1, -7}, { 3,  7}, { 7, -3}, {-7,  1}, { 1,  7}, {-3, -7}, {-7,  3}, { 7, -1},
    { 3,  5}, {-1, -5}, {-5,  1}, { 5, -3}, {-3, -5}, { 1,  5}, { 5, -1}, {-5,  3},
    {-1,  1}, { 3, -1}, {-1, -3}, { 1,  1}, { 1, -1}, {-3,  1}, { 1,  3}, {-1, -1},
    {-5,  5}, { 7, -5}, {-5, -7}, { 5,  5}, { 5, -5}, {-7,  5}, { 5,  7}, {-5, -5},
    {-5, -3}, { 7,  3}, { 3, -7}, {-3,  5}, { 5,  3}, {-7, -3}, {-3,  7}, { 3, -5},
};

static const v17_point_t map_9600[32] = {
    {-8,  2}, {-6, -4}, {-4,  6}, { 2,  8}, { 8, -2}, { 6,  4}, { 4, -6}, {-2, -8},
    { 0,  2}, {-6,  4}, { 4,  6}, { 2,  0}, { 0, -2}, { 6, -4}, {-4, -6}, {-2,  0},
    { 0, -6}, { 2, -4}, {-4, -2}, {-6,  0}, { 0,  6}, {-2,  4}, { 4,  2}, { 6,  0},
    { 8,  2}, { 2,  4}, { 4, -2}, { 2, -8}, {-8, -2}, {-2, -4}, {-4,  2}, {-2,  8},
};

static const v17_point_t map_7200[16] = {
    { 6, -6}, {-2,  6}, { 6,  2}, {-6, -6}, {-6,  6}, { 2, -6}, {-6, -2}, { 6,  6},
    {-2,  2}, { 6, -2}, {-2, -6}, { 2,  2}, { 2, -2}, {-6,  2}, { 2,  6}, {-2, -2},
};

static const v17_constellation_t constellations[4] = {
    {14400, 6, 128, map_14400, 41.0f, 2},
    {12000, 5, 64, map_12000, 42.0f, 4},
    {9600, 4, 32, map_9600, 40.0f, 8},
    {7200, 3, 16, map_7200, 40.0f, 16},
};

/* Training points of V.17 §8: A, B, C, D (90 degrees apart). */
const v17_point_t v17_abcd[4] = {{-6, -2}, {2, -6}, {6, 2}, {-2, 6}};

const v17_constellation_t *v17_constellation(int rate)
{
    for (int i = 0; i < 4; i++)
        if (constellations[i].rate == rate)
            return &constellations[i];
    return NULL;
}

void v17_training_init(v17_training_t *t)
{
    t->scramble = V17_SCRAMBLER_SEED;
    t->abcd = 0;
    t->bridge = 0;
}

int v17_training_seg2(v17_training_t *t)
{
    static const int cdba[4] = {2, 3, 1, 0};
    int b = v17_scramble(&t->scramble, 1) << 1;
    b |= v17_scramble(&t->scramble, 1);
    t->abcd = cdba[b];
    return t->abcd;
}

int v17_training_bridge(v17_training_t *t)
{
    static const int quarters[4] = {1, 0, 2, 3};
    const int word = 0x8880;
    int shift = (t->bridge++ & 7) * 2;
    int b = v17_scramble(&t->scramble, word >> shift) << 1;
    b |= v17_scramble(&t->scramble, word >> (shift + 1));
    t->abcd = (t->abcd + quarters[b]) & 3;
    return t->abcd;
}

int v17_conv_next(int state, int y)
{
    int y1 = y & 1, y2 = (y >> 1) & 1;
    int w1 = state & 1, w2 = (state >> 1) & 1, w3 = (state >> 2) & 1;
    int n1 = y2 ^ w2 ^ (y1 & w1);
    int n2 = y1 ^ y2 ^ w3 ^ (w1 & (y2 ^ w2));
    return n1 | (n2 << 1) | (w1 << 2);
}

void v17_trellis_enc_init(v17_trellis_enc_t *e, int diff, int conv)
{
    e->diff = diff & 3;
    e->conv = conv & 7;
}

int v17_trellis_encode(v17_trellis_enc_t *e, int q)
{
    int y0 = e->conv & 1;
    /* V.17 Table 1: Y1n Y2n = (Q1n Q2n) + (Y1n-1 Y2n-1) modulo 4, Y1 the
     * less significant bit */
    e->diff = (e->diff + (q & 3)) & 3;
    e->conv = v17_conv_next(e->conv, e->diff);
    return ((q >> 2) << 3) | (e->diff << 1) | y0;
}

/* ---- Viterbi decoder ---------------------------------------------------- */

/* The trellis as the decoder walks it, from v17_conv_next (the tests pin
 * these against it): the four branches into state ns leave pred_state[ns][j]
 * (the even states feed states 0..3, the odd ones 4..7: Y0 = w1 is bit 0 of
 * the state left) carrying subset pred_subset[ns][j] (Y0 Y1 Y2).  The four
 * subsets into a state differ, so pred_of[ns][subset] gives the state a
 * survivor came from out of its label alone.  Constants, so that the
 * add-compare-select below unrolls with every index fixed. */
static const uint8_t pred_state[8][4] = {
    {0, 2, 4, 6}, {0, 2, 4, 6}, {0, 2, 4, 6}, {0, 2, 4, 6},
    {1, 3, 5, 7}, {1, 3, 5, 7}, {1, 3, 5, 7}, {1, 3, 5, 7},
};
static const uint8_t pred_subset[8][4] = {
    {0, 6, 2, 4}, {6, 0, 4, 2}, {2, 4, 0, 6}, {4, 2, 6, 0},
    {1, 3, 7, 5}, {5, 7, 3, 1}, {7, 5, 1, 3}, {3, 1, 5, 7},
};
static const uint8_t pred_of[8][8] = {
    {0, 0, 4, 0, 6, 0, 2, 0}, {2, 0, 6, 0, 4, 0, 0, 0},
    {4, 0, 0, 0, 2, 0, 6, 0}, {6, 0, 2, 0, 0, 0, 4, 0},
    {0, 1, 0, 3, 0, 7, 0, 5}, {0, 7, 0, 5, 0, 1, 0, 3},
    {0, 5, 0, 7, 0, 3, 0, 1}, {0, 3, 0, 1, 0, 5, 0, 7},
};

int v17_trellis_check(void)
{
    for (int ns = 0; ns < 8; ns++)
        for (int j = 0; j < 4; j++) {
            int s = pred_state[ns][j], b = pred_subset[ns][j];
            if ((b & 1) != (s & 1) || v17_conv_next(s, b >> 1) != ns || pred_of[ns][b] != s)
                return -1;
        }
    return 0;
}

/* Half a unit of V.17's integer grid (points are 2 apart): the nearest
 * point of a subset is decided at the cell's centre.  A quarter unit cost
 * 4 times the table and measured no better (the same errors at every SNR
 * of the V.17 9600 sweep). */
#define GRID_STEP 0.5f

/* The slicing grid of a constellation: the nearest point of each subset for
 * every cell (see v17_viterbi_t).  It depends on the rate alone and costs
 * far more than a receiver's start (40 x 40 cells x 128 points at 14 400),
 * so each rate's grid is built once per process and shared read-only by
 * every decoder.  Builders that race both build; one publishes, the other
 * frees its copy. */
static uint8_t *grids[4];
static int grid_builds;

int v17_viterbi_grid_builds(void)
{
    return __atomic_load_n(&grid_builds, __ATOMIC_RELAXED);
}

static uint8_t *build_grid(const v17_constellation_t *c, int grid_n, float lo)
{
    uint8_t *grid = malloc((size_t) grid_n * grid_n * 8);
    if (grid == NULL)
        return NULL;
    __atomic_add_fetch(&grid_builds, 1, __ATOMIC_RELAXED);
    for (int iy = 0; iy < grid_n; iy++)
        for (int ix = 0; ix < grid_n; ix++) {
            float x = lo + (ix + 0.5f) * GRID_STEP;
            float y = lo + (iy + 0.5f) * GRID_STEP;
            float best[8];
            uint8_t *cell = grid + ((size_t) iy * grid_n + ix) * 8;
            for (int k = 0; k < 8; k++)
                best[k] = INFINITY;
            for (int i = 0; i < c->points; i++) {
                float dx = x - c->map[i].re, dy = y - c->map[i].im;
                float d = dx * dx + dy * dy;
                if (d < best[i & 7]) {
                    best[i & 7] = d;
                    cell[i & 7] = (uint8_t) i;
                }
            }
        }
    return grid;
}

static const uint8_t *shared_grid(const v17_constellation_t *c, int grid_n, float lo)
{
    uint8_t **slot = &grids[c->bits_per_symbol - 3];
    uint8_t *grid = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (grid)
        return grid;
    grid = build_grid(c, grid_n, lo);
    if (grid == NULL)
        return NULL;
    uint8_t *none = NULL;
    if (!__atomic_compare_exchange_n(slot, &none, grid, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        free(grid);
        return none;
    }
    return grid;
}

int v17_viterbi_init(v17_viterbi_t *v, int rate, int depth)
{
    const v17_constellation_t *c = v17_constellation(rate);
    int extent = 0;

    memset(v, 0, sizeof(*v));
    if (c == NULL || depth < 1 || depth > V17_VITERBI_MAX_DEPTH)
        return -1;
    v->c = c;
    v->depth = depth;
    for (int i = 0; i < c->points; i++) {
        v->point[i][0] = (float) c->map[i].re;
        v->point[i][1] = (float) c->map[i].im;
        if (abs(c->map[i].re) > extent)
            extent = abs(c->map[i].re);
        if (abs(c->map[i].im) > extent)
            extent = abs(c->map[i].im);
    }
    /* Beyond one unit outside the outermost points the nearest point of a
     * subset no longer changes along the clamped axis. */
    v->grid_lo = -(float) (extent + 1);
    v->grid_step = GRID_STEP;
    v->grid_n = (int) (2 * (extent + 1) / GRID_STEP);
    v->grid = shared_grid(c, v->grid_n, v->grid_lo);
    if (v->grid == NULL)
        return -1;
    v17_viterbi_restart(v);
    return 0;
}

void v17_viterbi_restart(v17_viterbi_t *v)
{
    v->pending = 0;
    v->pos = 0;
    for (int s = 0; s < 8; s++)
        v->metric[s] = 0.0f;
}

void v17_viterbi_free(v17_viterbi_t *v)
{
    v->grid = NULL;             /* shared: see shared_grid */
}

static inline const uint8_t *grid_cell(const v17_viterbi_t *v, float re, float im)
{
    /* clamped as floats, NaN to the first cell, before the conversion: on
     * the grid truncation is the floor */
    float top = (float) (v->grid_n - 1);
    float fx = (re - v->grid_lo) * (1.0f / GRID_STEP);
    float fy = (im - v->grid_lo) * (1.0f / GRID_STEP);
    fx = fx >= 0.0f ? fx : 0.0f;
    fy = fy >= 0.0f ? fy : 0.0f;
    fx = fx < top ? fx : top;
    fy = fy < top ? fy : top;
    return v->grid + ((size_t) (int) fy * v->grid_n + (int) fx) * 8;
}

static int best_state(const v17_viterbi_t *v)
{
    int ns = 0;
    for (int s = 1; s < 8; s++)
        if (v->metric[s] < v->metric[ns])
            ns = s;
    return ns;
}

/* Walk the best survivor back over the pending symbols; the labels of the
 * oldest `n` of them go to out, oldest first.  The ring is walked in runs
 * that end where it wraps, so the inner step is a load and a look-up. */
static void traceback(const v17_viterbi_t *v, int n, int *out)
{
    int ns = best_state(v);
    int t = v->pos;
    int age = v->pending - 1;   /* of the symbol at t; 0 = oldest pending */
    /* first the symbols newer than the n to release (only the path), then
     * those n (the path and their labels) */
    for (int released = 0; released < 2; released++) {
        int last = released ? -1 : n - 1;                   /* the age the walk stops after */
        while (age > last) {
            int stop = age - t - 1 > last ? age - t - 1 : last;    /* just past ring slot 0, or last */
            for (; age > stop; age--, t--) {
                int label = v->label[t][ns];
                if (released)
                    out[age] = label;
                ns = pred_of[ns][label & 7];
            }
            if (t < 0)
                t = V17_VITERBI_RING - 1;
        }
    }
}

/* One symbol (re, im) at its grid cell: the squared distances to the
 * nearest point of each subset (the branch metrics, with the cell's labels
 * riding along), then add-compare-select over the 32 branches: the metrics
 * become the survivors' (less the least, so they stay small) and
 * label[pos][ns] the label of the branch that survives into state ns.  On
 * a tie the earlier branch of pred_subset survives.  Which survives is
 * data, not a pattern to predict: no branches, only selects.  Returns the
 * nearest subset (the first of equal distances). */
#ifdef __SSE2__
/* Four states a vector: states 0..3 are entered from the even states, 4..7
 * from the odd ones, so branch j into states 0..3 adds metric[2j] to the
 * even subsets' distances in the order of column j of pred_subset (a
 * shuffle), and likewise for 4..7.  The same additions and comparisons as
 * the scalar loop below: the same survivors, bit for bit. */
#define BLEND(mask, a, b) _mm_or_ps(_mm_and_ps(mask, a), _mm_andnot_ps(mask, b))
#define BLENDI(mask, a, b) \
    _mm_or_si128(_mm_and_si128(_mm_castps_si128(mask), a), _mm_andnot_si128(_mm_castps_si128(mask), b))
/* lanes a b c d of v, in that order */
#define LANES(a, b, c, d) _MM_SHUFFLE(d, c, b, a)
#define SEL(v, lanes) _mm_shuffle_ps(v, v, lanes)
#define SELI(v, lanes) _mm_shuffle_epi32(v, lanes)
/* columns of pred_subset as lanes of (d0 d2 d4 d6) and of (d1 d3 d5 d7) */
#define ACS_HALF(metric, first, dv, lv, p0, p1, p2, p3, out_m, out_l) do { \
        __m128 x0 = _mm_add_ps(_mm_set1_ps(metric[first]), SEL(dv, p0)); \
        __m128 x1 = _mm_add_ps(_mm_set1_ps(metric[first + 2]), SEL(dv, p1)); \
        __m128 x2 = _mm_add_ps(_mm_set1_ps(metric[first + 4]), SEL(dv, p2)); \
        __m128 x3 = _mm_add_ps(_mm_set1_ps(metric[first + 6]), SEL(dv, p3)); \
        __m128 k01 = _mm_cmplt_ps(x1, x0), k23 = _mm_cmplt_ps(x3, x2); \
        __m128 m01 = BLEND(k01, x1, x0), m23 = BLEND(k23, x3, x2); \
        __m128i l01 = BLENDI(k01, SELI(lv, p1), SELI(lv, p0)); \
        __m128i l23 = BLENDI(k23, SELI(lv, p3), SELI(lv, p2)); \
        __m128 k = _mm_cmplt_ps(m23, m01); \
        out_m = BLEND(k, m23, m01); \
        out_l = BLENDI(k, l23, l01); \
    } while (0)

/* 4 bits spread to the even bits of 8 */
static const uint8_t spread4[16] = {
    0x00, 0x01, 0x04, 0x05, 0x10, 0x11, 0x14, 0x15, 0x40, 0x41, 0x44, 0x45, 0x50, 0x51, 0x54, 0x55,
};

static inline int branches(v17_viterbi_t *v, float re, float im, const uint8_t *cell)
{
    const float (*pt)[2] = (const float (*)[2]) v->point;
    float *metric = v->metric;
    uint8_t *label = v->label[v->pos];
    __m128 vre = _mm_set1_ps(re), vim = _mm_set1_ps(im);
    __m128 dxe = _mm_sub_ps(vre, _mm_setr_ps(pt[cell[0]][0], pt[cell[2]][0], pt[cell[4]][0], pt[cell[6]][0]));
    __m128 dye = _mm_sub_ps(vim, _mm_setr_ps(pt[cell[0]][1], pt[cell[2]][1], pt[cell[4]][1], pt[cell[6]][1]));
    __m128 dxo = _mm_sub_ps(vre, _mm_setr_ps(pt[cell[1]][0], pt[cell[3]][0], pt[cell[5]][0], pt[cell[7]][0]));
    __m128 dyo = _mm_sub_ps(vim, _mm_setr_ps(pt[cell[1]][1], pt[cell[3]][1], pt[cell[5]][1], pt[cell[7]][1]));
    __m128 de = _mm_add_ps(_mm_mul_ps(dxe, dxe), _mm_mul_ps(dye, dye));
    __m128 dodd = _mm_add_ps(_mm_mul_ps(dxo, dxo), _mm_mul_ps(dyo, dyo));
    __m128 near = _mm_min_ps(de, dodd);
    int at;
    near = _mm_min_ps(near, _mm_shuffle_ps(near, near, _MM_SHUFFLE(1, 0, 3, 2)));
    near = _mm_min_ps(near, _mm_shuffle_ps(near, near, _MM_SHUFFLE(2, 3, 0, 1)));
    /* the nearest subset, the first of equals as the scalar loop finds it
     * (subset 2i is lane i of de, 2i + 1 lane i of dodd); NaN: subset 0 */
    at = spread4[_mm_movemask_ps(_mm_cmpeq_ps(de, near))]
         | spread4[_mm_movemask_ps(_mm_cmpeq_ps(dodd, near))] << 1;
    __m128i le = _mm_setr_epi32(cell[0], cell[2], cell[4], cell[6]);
    __m128i lodd = _mm_setr_epi32(cell[1], cell[3], cell[5], cell[7]);
    __m128 mlo, mhi, low;
    __m128i llo, lhi, l16;
    /* pred_subset rows 0..3, column j, in units of the even subsets:
     * {0,6,2,4} -> 0 3 1 2, {6,0,4,2} -> 3 0 2 1, {2,4,0,6} -> 1 2 0 3,
     * {4,2,6,0} -> 2 1 3 0; rows 4..7 in the odd ones: {1,5,7,3} -> 0 2 3 1,
     * {3,7,5,1} -> 1 3 2 0, {7,3,1,5} -> 3 1 0 2, {5,1,3,7} -> 2 0 1 3 */
    ACS_HALF(metric, 0, de, le, LANES(0, 3, 1, 2), LANES(3, 0, 2, 1), LANES(1, 2, 0, 3), LANES(2, 1, 3, 0),
             mlo, llo);
    ACS_HALF(metric, 1, dodd, lodd, LANES(0, 2, 3, 1), LANES(1, 3, 2, 0), LANES(3, 1, 0, 2), LANES(2, 0, 1, 3),
             mhi, lhi);
    low = _mm_min_ps(mlo, mhi);
    low = _mm_min_ps(low, _mm_shuffle_ps(low, low, _MM_SHUFFLE(1, 0, 3, 2)));
    low = _mm_min_ps(low, _mm_shuffle_ps(low, low, _MM_SHUFFLE(2, 3, 0, 1)));
    _mm_storeu_ps(metric, _mm_sub_ps(mlo, low));
    _mm_storeu_ps(metric + 4, _mm_sub_ps(mhi, low));
    l16 = _mm_packs_epi32(llo, lhi);
    _mm_storel_epi64((__m128i *) label, _mm_packus_epi16(l16, l16));
    return at ? __builtin_ctz((unsigned) at) : 0;
}
#else
static inline int branches(v17_viterbi_t *v, float re, float im, const uint8_t *cell)
{
    float *metric = v->metric;
    uint8_t *label = v->label[v->pos];
    float d[8], m[8], low;
    int best_k = 0;
    for (int k = 0; k < 8; k++) {
        const float *p = v->point[cell[k]];
        float dx = re - p[0], dy = im - p[1];
        d[k] = dx * dx + dy * dy;
    }
    for (int k = 1; k < 8; k++)
        best_k = d[k] < d[best_k] ? k : best_k;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 8
#endif
    for (int ns = 0; ns < 8; ns++) {
        const uint8_t *ps = pred_state[ns], *pb = pred_subset[ns];
        float x0 = metric[ps[0]] + d[pb[0]], x1 = metric[ps[1]] + d[pb[1]];
        float x2 = metric[ps[2]] + d[pb[2]], x3 = metric[ps[3]] + d[pb[3]];
        int l0 = cell[pb[0]], l1 = cell[pb[1]], l2 = cell[pb[2]], l3 = cell[pb[3]];
        float m01 = x1 < x0 ? x1 : x0, m23 = x3 < x2 ? x3 : x2;
        int l01 = x1 < x0 ? l1 : l0, l23 = x3 < x2 ? l3 : l2;
        m[ns] = m23 < m01 ? m23 : m01;
        label[ns] = (uint8_t) (m23 < m01 ? l23 : l01);
    }
    low = m[0];
    for (int s = 1; s < 8; s++)
        low = m[s] < low ? m[s] : low;
    for (int s = 0; s < 8; s++)
        metric[s] = m[s] - low;
    return best_k;
}
#endif

int v17_viterbi_push(v17_viterbi_t *v, float re, float im, int *nearest_label, int *out)
{
    const uint8_t *cell = grid_cell(v, re, im);
    int best_k;

    if (++v->pos >= V17_VITERBI_RING)
        v->pos = 0;
    best_k = branches(v, re, im, cell);
    if (nearest_label)
        *nearest_label = cell[best_k];
    /* a block is released once its newest symbol is depth - 1 old */
    if (++v->pending < v->depth - 1 + V17_VITERBI_BLOCK)
        return 0;
    traceback(v, V17_VITERBI_BLOCK, out);
    v->pending -= V17_VITERBI_BLOCK;
    return V17_VITERBI_BLOCK;
}

int v17_viterbi_flush(v17_viterbi_t *v, int *out)
{
    int n = v->pending;
    traceback(v, n, out);
    v17_viterbi_restart(v);
    return n;
}
