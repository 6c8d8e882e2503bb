/*
 * v17tx.c - ITU-T V.17 transmitter: 7200, 9600, 12 000 and 14 400 bit/s,
 * 2400 symbols/s on an 1800 Hz carrier, trellis coded (v17_trellis.c).
 *
 * What goes on the line (V.17 §8, Table 3; symbol counts at 2400/s):
 *   optional talker echo protection: 480 symbols (200 ms) of unmodulated
 *     carrier, then 48 symbols (20 ms) of silence;
 *   segment 1: 256 symbols alternating A B A B ...;
 *   segment 2: equaliser conditioning, 2976 symbols in the long training,
 *     38 in the short, and (long training only) segment 3, 64 symbols of
 *     bridge: both from v17_training_seg2/bridge (v17_trellis.h);
 *   segment 4: 48 symbols of scrambled binary ones, trellis coded at the
 *     data rate; then data, trellis coded.
 * The scrambler (1 + x^-18 + x^-23, V.17 §5) starts at segment 2 from a
 * fixed register, so a receiver can check the conditioning pattern; it runs
 * on through the data.  The trellis encoder starts with its delay
 * elements at 0 and its differential encoder at 1 (long training) or 0
 * (short), as the receivers in the field expect.
 *
 * Pulse shaping is a root raised cosine (beta 0.25, 12 symbols, Kaiser (beta 3)
 * window: > 45 dB out-of-band rejection) evaluated on a 24 kHz grid, where 3
 * ticks make a sample and 10 a symbol, centred between two ticks.  The
 * shared shaper (dsp_filter.h, as V.29 and V.27ter) folds the 1800 Hz
 * carrier into its table of this pulse, so each sample is one dot product
 * of 2 x 12 taps and no oscillator, and the phase is continuous across
 * calls by construction; the table lives in the state (no heap).
 */
#include "dsp_state.h"
#include "v17tx.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dsp_agc.h"
#include "dsp_filter.h"

enum seg {
    SEG_TEP_TONE, SEG_TEP_SILENCE, SEG_1, SEG_2, SEG_3, SEG_4, SEG_DATA,
    SEG_OFF_ONES, SEG_OFF_SILENCE, SEG_DONE
};

#define TEP_TONE_SYMBOLS 480
#define TEP_SILENCE_SYMBOLS 48
#define OFF_ONES_SYMBOLS 32
#define OFF_SILENCE_SYMBOLS 48

static int seg_length(const v17_tx_state_t *s, int seg)
{
    switch (seg) {
    case SEG_TEP_TONE: return s->tep ? TEP_TONE_SYMBOLS : 0;
    case SEG_TEP_SILENCE: return s->tep ? TEP_SILENCE_SYMBOLS : 0;
    case SEG_1: return V17_SEG1_SYMBOLS;
    case SEG_2: return s->short_train ? V17_SEG2_SHORT_SYMBOLS : V17_SEG2_LONG_SYMBOLS;
    case SEG_3: return s->short_train ? 0 : V17_SEG3_SYMBOLS;
    case SEG_4: return V17_SEG4_SYMBOLS;
    case SEG_OFF_ONES: return OFF_ONES_SYMBOLS;
    case SEG_OFF_SILENCE: return OFF_SILENCE_SYMBOLS;
    default: return 0;
    }
}

/* Zeroth-order modified Bessel function, for the Kaiser window. */
static double bessel_i0(double x)
{
    double sum = 1.0, term = 1.0;
    for (int k = 1; k < 40; k++) {
        term *= (x / (2.0 * k)) * (x / (2.0 * k));
        sum += term;
    }
    return sum;
}

/* The Kaiser-windowed RRC onto the shared shaper, at the level asked. */
static void design_filter(v17_tx_state_t *s, float power_dbm0)
{
    const int n = V17_TX_TAPS * V17_TX_PHASES;
    const double centre = (n - 1) / 2.0;
    const double kaiser_beta = 3.0;
    double pulse[V17_TX_TAPS * V17_TX_PHASES];
    double energy = 0.0;

    for (int i = 0; i < n; i++) {
        double r = (i - centre) / centre;
        double w = bessel_i0(kaiser_beta * sqrt(1.0 - r * r)) / bessel_i0(kaiser_beta);
        double h = dsp_rrc((float) ((i - centre) / V17_TX_PHASES), 0.25f) * w;
        /* tick i = phase + 10 k: phase i % 10 of the symbol k = i / 10 old */
        pulse[(i % V17_TX_PHASES) * V17_TX_TAPS + i / V17_TX_PHASES] = h;
        energy += h * h;
    }
    /* Mean power of Re{b g} over random symbols: E|a|^2/2 times the pulse
     * energy per 10 ticks. */
    double target = dsp_dbm0_to_power(power_dbm0);
    float gain = (float) sqrt(target / (s->c->mean_energy / 2.0 * energy / V17_TX_PHASES));
    /* the table is caller memory of the right size (V17_TX_PERIOD rows):
     * nothing to fail */
    dsp_shaper_init_pulse(&s->sh, V17_TX_PHASES, 3, V17_TX_TAPS, pulse, 1800.0f, gain, s->mix);
}

size_t v17_tx_state_size(void)
{
    return sizeof(v17_tx_state_t);
}

v17_tx_state_t *v17_tx_init(v17_tx_state_t *s, int rate, int short_train, int tep, float power_dbm0)
{
    if (v17_constellation(rate) == NULL)
        return NULL;
    if ((s = dsp_state_claim(s, sizeof(*s), offsetof(v17_tx_state_t, allocated))) == NULL)
        return NULL;
    v17_tx_restart(s, rate, short_train, tep, power_dbm0);
    return s;
}

int v17_tx_restart(v17_tx_state_t *s, int rate, int short_train, int tep, float power_dbm0)
{
    const v17_constellation_t *c = v17_constellation(rate);
    if (c == NULL)
        return -1;
    int allocated = s->allocated;
    memset(s, 0, sizeof(*s));
    s->allocated = allocated;
    s->c = c;
    s->short_train = short_train != 0;
    s->tep = tep != 0;
    design_filter(s, power_dbm0);
    s->segment = SEG_TEP_TONE;
    v17_training_init(&s->train);
    v17_trellis_enc_init(&s->enc, s->short_train ? 0 : 1, 0);
    return 0;
}

int v17_tx_free(v17_tx_state_t *s)
{
    if (s == NULL)
        return 0;
    dsp_shaper_free(&s->sh);        /* (its table is in s: nothing to free, kept for symmetry) */
    if (s->allocated)
        free(s);
    return 0;
}

/* Trellis code one symbol of data bits (already in order) after scrambling. */
static inline v17_point_t data_symbol(v17_tx_state_t *s, const uint8_t *bits)
{
    int q = 0;
    for (int i = 0; i < s->c->bits_per_symbol; i++)
        q |= v17_scramble(&s->train.scramble, bits[i] & 1) << i;
    return s->c->map[v17_trellis_encode(&s->enc, q)];
}

static const uint8_t ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};

/* The next symbol, or 0 when none can be made yet (data bits missing) or
 * the transmission is over.  *src/ *nsrc: the caller's bits. */
static int next_symbol(v17_tx_state_t *s, const uint8_t **src, int *nsrc, v17_point_t *pt)
{
    const int bps = s->c->bits_per_symbol;

    while (s->segment < SEG_DATA && s->count >= seg_length(s, s->segment)) {
        s->segment++;
        s->count = 0;
    }
    if (s->segment >= SEG_OFF_ONES && s->count >= seg_length(s, s->segment)) {
        if (++s->segment > SEG_OFF_SILENCE)
            s->segment = SEG_DONE;
        s->count = 0;
    }
    switch (s->segment) {
    case SEG_TEP_TONE:
        *pt = v17_abcd[0];
        break;
    case SEG_TEP_SILENCE:
    case SEG_OFF_SILENCE:
        pt->re = pt->im = 0;
        break;
    case SEG_1:
        *pt = v17_abcd[s->count & 1];
        break;
    case SEG_2:
        *pt = v17_abcd[v17_training_seg2(&s->train)];
        break;
    case SEG_3:
        *pt = v17_abcd[v17_training_bridge(&s->train)];
        break;
    case SEG_4:
    case SEG_OFF_ONES:
        *pt = data_symbol(s, ones);
        break;
    case SEG_DATA: {
        uint8_t sym[8];
        int have = s->npending + *nsrc;
        if (have < bps) {
            if (!s->finishing)
                return 0;
            /* the turn-off pads the last symbol with ones */
            memcpy(sym, s->pending, (size_t) s->npending);
            if (*nsrc > 0) {
                /* (finish passes no bits: NULL, which memcpy may not take
                 * even for 0 bytes, C99 7.21.1) */
                memcpy(sym + s->npending, *src, (size_t) *nsrc);
                *src += *nsrc;
            }
            memset(sym + have, 1, (size_t) (bps - have));
            *nsrc = 0;
            s->npending = 0;
            if (have > 0)
                *pt = data_symbol(s, sym);
            /* then the 32 symbols of ones in full */
            s->segment = SEG_OFF_ONES;
            s->count = 0;
            if (have > 0)
                return 1;
            return next_symbol(s, src, nsrc, pt);
        }
        if (s->npending) {
            int take = bps - s->npending;
            memcpy(sym, s->pending, (size_t) s->npending);
            memcpy(sym + s->npending, *src, (size_t) take);
            s->npending = 0;
            *src += take;
            *nsrc -= take;
            *pt = data_symbol(s, sym);
        } else {
            *pt = data_symbol(s, *src);
            *src += bps;
            *nsrc -= bps;
        }
        /* the data segment has no length: its count stays at 0 */
        return 1;
    }
    default:
        return 0;
    }
    s->count++;
    return 1;
}

/* The caller's bits, for the shaper's symbol callback. */
typedef struct {
    v17_tx_state_t *s;
    const uint8_t **src;
    int *nsrc;
} feed_t;

static int shaper_symbol(void *user, cf_t *sym)
{
    feed_t *f = user;
    v17_point_t p;
    if (!next_symbol(f->s, f->src, f->nsrc, &p))
        return 0;
    *sym = cf(p.re, p.im);
    return 1;
}

static int run(v17_tx_state_t *s, const uint8_t **src, int *nsrc, int16_t *amp, int max_len)
{
    feed_t f = {s, src, nsrc};
    return dsp_shaper_run(&s->sh, amp, max_len, shaper_symbol, &f);
}

static int training_left(const v17_tx_state_t *s)
{
    int left = 0;
    for (int seg = s->segment; seg < SEG_DATA; seg++)
        left += seg_length(s, seg);
    if (s->segment < SEG_DATA)
        left -= s->count;
    return left;
}

int v17_tx_max_samples(const v17_tx_state_t *s, int nbits)
{
    int symbols = training_left(s) + (s->npending + nbits) / s->c->bits_per_symbol;
    return 4 * symbols + 4;
}

int v17_tx_finish_max_samples(const v17_tx_state_t *s)
{
    int symbols = training_left(s) + 1 + OFF_ONES_SYMBOLS + OFF_SILENCE_SYMBOLS;
    return 4 * symbols + 4;
}

int v17_tx(v17_tx_state_t *s, const uint8_t *bits, int nbits, int16_t *amp, int max_len)
{
    int n;
    if (s->finishing)
        return -1;
    n = run(s, &bits, &nbits, amp, max_len);
    /* what is left is short of a symbol (given room for max_samples) */
    if (nbits > 0 && s->npending + nbits < (int) sizeof(s->pending)) {
        memcpy(s->pending + s->npending, bits, (size_t) nbits);
        s->npending += nbits;
    }
    return n;
}

int v17_tx_finish(v17_tx_state_t *s, int16_t *amp, int max_len)
{
    const uint8_t *none = NULL;
    int zero = 0;
    if (s->finishing)
        return 0;
    s->finishing = 1;
    return run(s, &none, &zero, amp, max_len);
}
