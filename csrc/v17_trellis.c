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

/* The four branches into each state: the state they leave and the subset
 * (Y0 Y1 Y2) they carry. */
static uint8_t pred_state[8][4];
static uint8_t pred_subset[8][4];
static int pred_ready;

static void build_pred(void)
{
    int count[8] = {0};
    if (pred_ready)
        return;
    for (int s = 0; s < 8; s++)
        for (int y = 0; y < 4; y++) {
            int ns = v17_conv_next(s, y);
            pred_state[ns][count[ns]] = (uint8_t) s;
            pred_subset[ns][count[ns]++] = (uint8_t) ((y << 1) | (s & 1));
        }
    pred_ready = 1;
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
    /* The table is idempotent; racing builders write the same bytes. */
    build_pred();
    v->c = c;
    v->depth = depth;
    for (int i = 0; i < c->points; i++) {
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
    int ix = (int) floorf((re - v->grid_lo) * (1.0f / GRID_STEP));
    int iy = (int) floorf((im - v->grid_lo) * (1.0f / GRID_STEP));
    if (ix < 0)
        ix = 0;
    else if (ix >= v->grid_n)
        ix = v->grid_n - 1;
    if (iy < 0)
        iy = 0;
    else if (iy >= v->grid_n)
        iy = v->grid_n - 1;
    return v->grid + ((size_t) iy * v->grid_n + ix) * 8;
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
 * oldest `n` of them go to out, oldest first. */
static void traceback(const v17_viterbi_t *v, int n, int *out)
{
    int ns = best_state(v);
    int t = v->pos;
    for (int k = 0; k < v->pending; k++) {
        int age = v->pending - 1 - k;       /* 0 = oldest pending */
        if (age < n)
            out[age] = v->label[t][ns];
        ns = v->prev[t][ns];
        if (--t < 0)
            t = V17_VITERBI_RING - 1;
    }
}

int v17_viterbi_push(v17_viterbi_t *v, float re, float im, int *nearest_label, int *out)
{
    const uint8_t *cell = grid_cell(v, re, im);
    float d[8], m[8], low = INFINITY;
    int best_k = 0;

    if (++v->pos >= V17_VITERBI_RING)
        v->pos = 0;
    for (int k = 0; k < 8; k++) {
        const v17_point_t *p = &v->c->map[cell[k]];
        float dx = re - p->re, dy = im - p->im;
        d[k] = dx * dx + dy * dy;
    }
    for (int k = 1; k < 8; k++)
        best_k = d[k] < d[best_k] ? k : best_k;
    if (nearest_label)
        *nearest_label = cell[best_k];
    /* add-compare-select: 4 branches into each of the 8 states (written
     * without branches: which survives is data, not a pattern to predict) */
    for (int ns = 0; ns < 8; ns++) {
        const uint8_t *ps = pred_state[ns], *pb = pred_subset[ns];
        float x0 = v->metric[ps[0]] + d[pb[0]], x1 = v->metric[ps[1]] + d[pb[1]];
        float x2 = v->metric[ps[2]] + d[pb[2]], x3 = v->metric[ps[3]] + d[pb[3]];
        int j01 = x1 < x0, j23 = x3 < x2;
        float m01 = j01 ? x1 : x0, m23 = j23 ? x3 : x2;
        int j = m23 < m01 ? 2 + j23 : j01;
        float bm = m23 < m01 ? m23 : m01;
        m[ns] = bm;
        v->prev[v->pos][ns] = ps[j];
        v->label[v->pos][ns] = cell[pb[j]];
        low = bm < low ? bm : low;
    }
    for (int s = 0; s < 8; s++)
        v->metric[s] = m[s] - low;
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
