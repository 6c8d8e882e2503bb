/*
 * v17rx.c - ITU-T V.17 receiver.
 *
 * Front end (the shared blocks of dsp_*.h): carrier detection on the input
 * power; a complex band-pass matched filter (root raised cosine, beta 0.25,
 * moved to 1800 Hz) evaluated at fractional instants, two per symbol; an
 * NCO that takes the carrier off; a T/2 fractionally spaced NLMS equaliser.
 * After the equaliser a second-order loop tracks the carrier phase, so
 * that loop sees no equaliser delay.
 *
 * Training (V.17 §8, Table 3), symbol by symbol:
 *   segment 1, A B A B: the alternation estimator finds it and the symbol
 *     centres at once; then 48 symbols give the carrier frequency offset
 *     (the phase step between equal points two symbols apart) and 24 the
 *     gain and phase (against both A B.. and B A..), which set the
 *     equaliser's centre tap, or turn and scale the equaliser kept from an
 *     earlier training (short training);
 *   segment 2 is known (scrambled ones from a fixed register): it is
 *     recognised by its first 16 symbols after 8 of A B (its C D start is
 *     the alternation turned half round), under any of the 4 quarter turns
 *     should segment 1 have left one, and from there the equaliser trains
 *     on the known points.  At its 38th symbol 8 symbols are held and compared with the
 *     known sequence: if they still follow it the training is long (2976
 *     symbols, then the 64 known bridge symbols of segment 3), else short
 *     and they were already segment 4;
 *   segment 4, 48 symbols of trellis-coded scrambled ones, and the data:
 *     decision-directed equaliser and carrier updates on the nearest point
 *     (no delay), the bits from the soft-decision Viterbi decoder
 *     (v17_trellis.c) with a 32-symbol traceback, differential decoding
 *     and the self-synchronising descrambler, which segment 4 fills.
 * The end of a signal: the carrier detector, or, on a line whose noise
 * keeps the level up, the equaliser's output falling to a quarter of the
 * constellation's power; the receiver then seeks the next training with
 * its equaliser kept.
 * Which equaliser is kept: the short training (V.17 §8.3: used only after
 * a long one on the same call) has too few known symbols to train taps
 * from nothing and relies on the receiver still holding the channel.  The
 * taps adapt on decisions during the data, so a noise burst that loses the
 * signal drags them to garbage, and the next short training, and with it
 * every ECM retransmission until T.30's CTC brings a long one, would fail.
 * So the taps are copied at the end of the long training and at the end of
 * every 64-symbol window in which the decisions were good (their mean error
 * power, over that window alone, under half the squared half-distance
 * between neighbouring points, i.e. 22, 19, 16, 13 dB SNR at 14400..7200),
 * two windows late as the SNR report is, and every new training starts
 * from that copy.  The timing
 * loop's integral (the clock difference) is kept with them: a burst drags
 * it as much.
 * Lost samples (v17_rx_fillin, as spandsp's): the carrier detector holds
 * its state, time, the NCO and the carrier loop's phase move on, zeros go
 * through the filters and the Viterbi decoder, and nothing adapts, estimates
 * or decides the signal has ended; the bits decided on the hole come out,
 * so the data after it keeps its place.
 * Symbol timing: the alternation gives it; from segment 2 on a Gardner
 * detector with a proportional-integral loop follows the clock (the
 * integral takes +-100 ppm).
 */
#include "dsp_state.h"
#include "v17rx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum rx_state {
    RX_IDLE,        /* no carrier */
    RX_SEEK,        /* carrier, looking for the A B alternation */
    RX_FREQ,        /* segment 1: carrier frequency */
    RX_PHASE,       /* segment 1: gain and phase */
    RX_SEG1,        /* segment 1: waiting for segment 2 */
    RX_SEG2,        /* segment 2: training on known points */
    RX_DECIDE,      /* long or short training? */
    RX_SEG3,        /* bridge: training on known points */
    RX_DATA         /* segment 4 and data */
};

#define SPS (10.0 / 3.0)
#define HALF (5.0 / 3.0)
#define EQ_LEN V17_RX_EQ_LEN
/* The matched filter spans 12 symbols: over 8 its window left enough of
 * the pulse's tails out that the symbol samples kept a little intersymbol
 * interference and correlated noise, which the trellis decoder pays for
 * near threshold.  bench/test_modem_sensitivity.py's sweep with 12: 9600
 * from 15.0 to 14.5 dB, 12 000 from 18.5 to 18.0, 14 400 and 7200 kept
 * 21.0 and 11.5 (V.17 9600 over 20 x 20 s at 14.0 dB: 35 error events
 * against 42 with 8).  It costs 2.6 % more instructions (14 400 bit/s,
 * 10 s: 63.8 M against 62.1 M in v17_rx). */
#define BP_SPAN 12
#define BP_PHASES 64
#define PI_F 3.14159265f

#define SEEK_STRENGTH 0.25f
#define SEEK_SAMPLES 32         /* T/2 samples of steady alternation */
#define FREQ_SYMBOLS 48
#define PHASE_SYMBOLS 24
#define SEG1_TIMEOUT 400
#define DECIDE_SYMBOLS 8
#define DECIDE_NEAR 16.0f       /* |z - expected|^2 for "still segment 2" */
#define LOST_POWER 0.25f        /* of the constellation's: the signal has ended */

/* loop gains, per symbol */
#define MU_TRAIN 0.15f
#define PLL_KP_TRAIN 0.08f
#define PLL_KI_TRAIN 0.002f
/* In data every loop runs at half its training gain or less: what a loop
 * takes from the noise it hands to the decisions, and the training has
 * found frequency and clock (bench/test_modem_sensitivity.py: 7200 from
 * 12.0 to 11.5 dB, fewer errors below threshold at 9600, 12 000 and 14 400
 * unchanged; the +-10 Hz, +-100 ppm lines of tests/modem still pass). */
#define MU_DATA 0.005f
#define PLL_KP_DATA 0.01f
#define PLL_KI_DATA 0.0001f
/* At 7200 and 9600 bit/s, after PLL_GEAR_SYMBOLS of data (0.42 s), the
 * carrier loop has settled what the training left and shifts down again:
 * at 9600 the sweep's threshold went from 16.0 to 15.0 dB and 7200 kept
 * its 11.5 (fewer errors below both); lower still (0.001) lost the start
 * of the data, and a gear for the equaliser step or the timing loop
 * changed nothing.  12 000 and 14 400 gained nothing from it, and below
 * threshold the slow loop did not recover from a phase slip (14 400 at
 * 19 dB: 4870 bit errors in 20 000 instead of about 90), so they keep
 * the data gains. */
#define PLL_GEAR_SYMBOLS 1000
#define PLL_KP_SETTLED 0.0015f
#define PLL_KI_SETTLED 0.00001f
#define TIMING_KP 0.002f
#define TIMING_KI 0.00002f

static void start_seek(v17_rx_state_t *s);

size_t v17_rx_state_size(void)
{
    return sizeof(v17_rx_state_t);
}

/* The state as init leaves it, in the memory (and with the filter and
 * equaliser buffers) it already has. */
static int reset(v17_rx_state_t *s, const v17_constellation_t *c)
{
    v17_viterbi_t vit;
    if (v17_viterbi_init(&vit, c->rate, V17_RX_TRACEBACK) < 0)
        return -1;
    dsp_bandpass_t bp = s->bp;
    dsp_equalizer_t eq = s->eq;
    int allocated = s->allocated;
    memset(s, 0, sizeof(*s));
    s->allocated = allocated;
    s->bp = bp;
    s->eq = eq;
    s->vit = vit;
    s->c = c;
    dsp_bandpass_clear(&s->bp);
    dsp_equalizer_clear(&s->eq);
    /* carrier on at -47 dBm0, off below -52 (the signal may be -43) */
    dsp_power_detector_init(&s->pd, -47.0f, -52.0f, 80.0f);
    dsp_carrier_init(&s->nco, 1800.0f);
    /* good decisions: error power under (d/2)^2 / 2, d the least distance
     * between two points of the constellation */
    s->good_err = (float) s->c->min_distance2 / 8.0f;
    {
        v17_training_t t;
        v17_training_init(&t);
        for (int i = 0; i < V17_RX_MATCH; i++)
            s->pattern[i] = (uint8_t) (i < V17_RX_MATCH - V17_RX_SEG2_MATCH ? i & 1 : v17_training_seg2(&t));
    }
    s->state = RX_IDLE;
    return 0;
}

v17_rx_state_t *v17_rx_init(v17_rx_state_t *s, int rate)
{
    const v17_constellation_t *c = v17_constellation(rate);
    if (c == NULL)
        return NULL;
    if ((s = dsp_state_claim(s, sizeof(*s), offsetof(v17_rx_state_t, allocated))) == NULL)
        return NULL;
    if (dsp_bandpass_init(&s->bp, (float) SPS, BP_SPAN, 0.25f, 1800.0f, BP_PHASES) < 0
        || dsp_equalizer_init(&s->eq, EQ_LEN) < 0 || reset(s, c) < 0) {
        v17_rx_free(s);
        return NULL;
    }
    return s;
}

int v17_rx_free(v17_rx_state_t *s)
{
    if (s == NULL)
        return 0;
    dsp_bandpass_free(&s->bp);
    dsp_equalizer_free(&s->eq);
    v17_viterbi_free(&s->vit);
    if (s->allocated)
        free(s);
    return 0;
}

int v17_rx_restart(v17_rx_state_t *s, int rate, int short_train)
{
    const v17_constellation_t *c = v17_constellation(rate);
    if (c == NULL)
        return -1;
    if (!short_train)
        return reset(s, c);
    if (c != s->c) {
        /* the equaliser holds the channel, whatever the rate: the training
         * points and the grid are the same at every rate */
        v17_viterbi_t vit;
        if (v17_viterbi_init(&vit, rate, V17_RX_TRACEBACK) < 0)
            return -1;
        s->vit = vit;
        s->c = c;
        s->good_err = (float) c->min_distance2 / 8.0f;
    }
    s->state = RX_IDLE;
    s->count = 0;
    /* the carrier detector keeps its state: a restart while the level is
     * up looks for a training at once */
    if (s->pd.present)
        start_seek(s);
    return 0;
}

static void start_seek(v17_rx_state_t *s)
{
    s->state = RX_SEEK;
    s->count = 0;
    dsp_alternation_init(&s->alt, 1.0f / 32.0f);
    s->nco.freq = s->nco.nominal;
    if (!s->trained) {
        dsp_equalizer_reset(&s->eq, cf(1.0f, 0.0f));
        /* within a call the clocks keep their difference */
        dsp_timing_loop_init(&s->tloop);
    } else if (s->kept_ok) {
        /* the channel as it was while the decisions were good */
        dsp_equalizer_set_taps(&s->eq, s->eq_kept);
        s->tloop.integral = s->clock_kept;
    }
    s->cand_ok = 0;
}

static inline int nearest_abcd(cf_t z)
{
    int best = 0;
    float bd = 1e30f;
    for (int i = 0; i < 4; i++) {
        float dx = z.re - v17_abcd[i].re, dy = z.im - v17_abcd[i].im;
        float d = dx * dx + dy * dy;
        if (d < bd) {
            bd = d;
            best = i;
        }
    }
    return best;
}

static inline cf_t point(v17_point_t p)
{
    return cf((float) p.re, (float) p.im);
}

/* Turn the equaliser output by the tracked carrier phase. */
static inline cf_t derotate(v17_rx_state_t *s, cf_t z, cf_t *rot)
{
    s->phase += s->dphase;
    if (s->phase > PI_F)
        s->phase -= 2.0f * PI_F;
    else if (s->phase < -PI_F)
        s->phase += 2.0f * PI_F;
    /* e^{j phase} from the sine table (dsp_carrier.h), within 3e-7 */
    cf_t e = dsp_expj_neg((double) s->phase);
    *rot = cf(e.re, -e.im);
    return cf_mulc(z, *rot);
}

/* Carrier and equaliser updates toward decision d of the turned output zr. */
static inline void track(v17_rx_state_t *s, cf_t z, cf_t zr, cf_t d, cf_t rot,
                         float mu, float kp, float ki)
{
    /* phase error, small-angle: Im(zr conj d) / |d|^2 (no arctangent) */
    float err = cf_mulc(zr, d).im / cf_abs2(d);
    cf_t e = cf_sub(cf_mul(d, rot), z);           /* in the equaliser's frame */
    s->phase += kp * err;
    s->dphase += ki * err;
    float e2 = cf_abs2(cf_sub(zr, d));
    dsp_equalizer_adapt(&s->eq, e, mu);
    /* what the decisions see, for the SNR report */
    s->err_power += 0.01f * (e2 - s->err_power);
    s->sig_power += 0.01f * (cf_abs2(d) - s->sig_power);
}

/* The SNR report lags by two windows of 64 symbols, each kept only if the
 * output held its power throughout: the decisions made while a signal
 * ends (before the receiver knows it has) never reach the report. */
static void snr_window(v17_rx_state_t *s)
{
    if (s->out_power < s->window_low)
        s->window_low = s->out_power;
    if (++s->window_n < 64)
        return;
    if (s->window_low > 0.8f * s->c->mean_energy) {
        s->snr_snap[1] = s->snr_snap[0];
        s->snr_snap[0] = cf(s->sig_power, s->err_power);
    }
    /* the equaliser to keep: taken at a good window, kept if the next is
     * good too (a window that ends as trouble starts is not) */
    if (s->window_low > 0.8f * s->c->mean_energy && s->window_err < 64.0f * s->good_err) {
        if (s->cand_ok) {
            memcpy(s->eq_kept, s->eq_cand, sizeof(s->eq_kept));
            s->clock_kept = s->clock_cand;
            s->kept_ok = 1;
        }
        dsp_equalizer_get_taps(&s->eq, s->eq_cand);
        s->clock_cand = s->tloop.integral;
        s->cand_ok = 1;
    } else {
        s->cand_ok = 0;
    }
    s->window_n = 0;
    s->window_low = 1e30f;
    s->window_err = 0.0f;
}

/* q's low 6 bits in reverse order (bit 0 to bit 5): the bit sent first
 * goes into the scrambler register first */
static const uint8_t reverse6[64] = {
    0, 32, 16, 48, 8, 40, 24, 56, 4, 36, 20, 52, 12, 44, 28, 60,
    2, 34, 18, 50, 10, 42, 26, 58, 6, 38, 22, 54, 14, 46, 30, 62,
    1, 33, 17, 49, 9, 41, 25, 57, 5, 37, 21, 53, 13, 45, 29, 61,
    3, 35, 19, 51, 11, 43, 27, 59, 7, 39, 23, 55, 15, 47, 31, 63,
};

/* bytes6[v]: the 6 bits of v, highest first, one a byte, then two zeros */
#define B6(v) {((v) >> 5) & 1, ((v) >> 4) & 1, ((v) >> 3) & 1, ((v) >> 2) & 1, ((v) >> 1) & 1, (v) & 1, 0, 0}
#define B6x4(v) B6(v), B6((v) + 1), B6((v) + 2), B6((v) + 3)
#define B6x16(v) B6x4(v), B6x4((v) + 4), B6x4((v) + 8), B6x4((v) + 12)
static const uint8_t bytes6[64][8] = {B6x16(0), B6x16(16), B6x16(32), B6x16(48)};

/* The bits of one label: differential decoding, then the descrambler of
 * V.17 §5 over the symbol's k <= 6 bits at once.  Its taps are 18 and 23
 * bits back, more than k, so every bit of the symbol is descrambled with
 * register bits from before the symbol: shifted in as a word (the first
 * bit highest), the register gives all k outputs in one XOR, exactly as
 * v17_descramble bit by bit. */
static int emit_label(v17_rx_state_t *s, int label, uint8_t *bits)
{
    int k = s->c->bits_per_symbol;
    int y = (label >> 1) & 3;
    int q = v17_diff_decode(y, s->y_prev) | ((label >> 3) << 2);
    uint32_t in = (uint32_t) reverse6[q & 63] >> (6 - k);
    uint32_t reg = s->descramble << k;
    uint32_t out = in ^ (reg >> 18) ^ (reg >> 23);
    s->y_prev = y;
    s->descramble = reg | in;
    if (s->skip > 0) {
        s->skip--;
        return 0;
    }
    /* the k bits, first sent first, as bytes: 8 stored at once, the last
     * 8 - k overwritten by the next symbol's or left in the slack that
     * V17_RX_MAX_BITS keeps past the most a call can write */
    memcpy(bits, bytes6[(out << (6 - k)) & 63], 8);
    return k;
}

static int data_symbol(v17_rx_state_t *s, cf_t z, cf_t zr, cf_t rot, int adapt, uint8_t *bits)
{
    int tentative, labels[V17_VITERBI_BLOCK], n = 0;
    int released = v17_viterbi_push(&s->vit, zr.re, zr.im, &tentative, labels);
    if (!s->lost) {
        dsp_symtap_put(&s->tap, zr);
        s->window_err += cf_abs2(cf_sub(zr, point(s->c->map[tentative])));
        if (adapt) {
            /* the carrier loop shifts down once the data has settled it
             * (at 7200 and 9600 bit/s: see PLL_GEAR_SYMBOLS) */
            int settled = s->count >= PLL_GEAR_SYMBOLS && s->c->bits_per_symbol <= 4;
            if (!settled)
                s->count++;
            track(s, z, zr, point(s->c->map[tentative]), rot, MU_DATA,
                  settled ? PLL_KP_SETTLED : PLL_KP_DATA, settled ? PLL_KI_SETTLED : PLL_KI_DATA);
        }
        /* The signal may end without the level falling below the carrier-off
         * threshold (a noisy line): a quarter of the constellation's power at
         * the equaliser's output means it has. */
        s->out_power += (cf_abs2(zr) - s->out_power) * (1.0f / 16.0f);
        snr_window(s);
    }
    for (int i = 0; i < released; i++)
        n += emit_label(s, labels[i], bits + n);
    return n;
}

static void start_data(v17_rx_state_t *s)
{
    s->state = RX_DATA;
    s->count = 0;
    s->skip = V17_SEG4_SYMBOLS;
    s->y_prev = 0;
    s->descramble = 0;
    v17_viterbi_restart(&s->vit);
    s->trained = 1;
    s->out_power = s->c->mean_energy;
    s->window_n = 0;
    s->window_low = 1e30f;
    s->window_err = 0.0f;
    s->snr_snap[0] = s->snr_snap[1] = cf(0.0f, 0.0f);
}

/* One equalised symbol (on the integer grid after the centre tap is set). */
static int symbol(v17_rx_state_t *s, cf_t u, uint8_t *bits)
{
    cf_t z = dsp_equalizer_output(&s->eq);
    cf_t zr, rot;
    int n = 0;

    if (s->lost && s->state < RX_SEG2) {
        /* a lost symbol of segment 1: nothing to estimate from; the carrier
         * phase moves on once the loop runs (RX_SEG1) */
        if (s->state == RX_SEG1)
            derotate(s, z, &rot);
        return 0;
    }
    switch (s->state) {
    case RX_FREQ:
        /* equal points two symbols apart: the phase step is 2 symbols of
         * carrier offset */
        if (s->count >= 2)
            s->acc = cf_add(s->acc, cf_mulc(u, s->u_hist[1]));
        s->u_hist[1] = s->u_hist[0];
        s->u_hist[0] = u;
        if (++s->count >= FREQ_SYMBOLS) {
            float step = 0.5f * atan2f(s->acc.im, s->acc.re);
            s->nco.freq += step / SPS;
            s->state = RX_PHASE;
            s->count = 0;
            s->acc = s->acc2 = cf(0.0f, 0.0f);
        }
        break;
    case RX_PHASE: {
        /* gain and phase against A B A B and against B A B A: A to B is a
         * quarter turn, so the wrong order averages away */
        cf_t x = s->trained ? z : u;
        cf_t a = point(v17_abcd[s->count & 1]), b = point(v17_abcd[(s->count & 1) ^ 1]);
        s->acc = cf_add(s->acc, cf_scale(cf_mulc(x, a), 1.0f / cf_abs2(a)));
        s->acc2 = cf_add(s->acc2, cf_scale(cf_mulc(x, b), 1.0f / cf_abs2(b)));
        if (++s->count >= PHASE_SYMBOLS) {
            cf_t g = cf_scale(cf_abs2(s->acc) >= cf_abs2(s->acc2) ? s->acc : s->acc2, 1.0f / PHASE_SYMBOLS);
            float m = cf_abs2(g);
            cf_t inv = m > 0.0f ? cf(g.re / m, -g.im / m) : cf(1.0f, 0.0f);
            if (s->trained)
                dsp_equalizer_rotate(&s->eq, inv);
            else
                dsp_equalizer_reset(&s->eq, inv);
            s->phase = 0.0f;
            s->dphase = 0.0f;
            memset(s->recent, 0xFF, sizeof(s->recent));
            s->state = RX_SEG1;
            s->count = 0;
        }
        break;
    }
    case RX_SEG1: {
        int d, r;
        zr = derotate(s, z, &rot);
        d = nearest_abcd(zr);
        track(s, z, zr, point(v17_abcd[d]), rot, 0.0f, PLL_KP_TRAIN, PLL_KI_TRAIN);
        memmove(s->recent, s->recent + 1, V17_RX_MATCH - 1);
        s->recent[V17_RX_MATCH - 1] = (uint8_t) d;
        for (r = 0; r < 4; r++) {
            int miss = 0;
            for (int k = 0; k < V17_RX_MATCH; k++)
                miss += s->recent[k] != ((s->pattern[k] + r) & 3);
            if (miss <= 2)
                break;
        }
        if (r < 4) {
            /* the output lags the truth by r quarter turns */
            static const float qre[4] = {1.0f, 0.0f, -1.0f, 0.0f};
            static const float qim[4] = {0.0f, -1.0f, 0.0f, 1.0f};
            dsp_equalizer_rotate(&s->eq, cf(qre[r], qim[r]));
            v17_training_init(&s->train);
            for (int k = 0; k < V17_RX_SEG2_MATCH; k++)
                v17_training_seg2(&s->train);
            s->state = RX_SEG2;
            s->count = V17_RX_SEG2_MATCH;
        } else if (++s->count > SEG1_TIMEOUT) {
            start_seek(s);
        }
        break;
    }
    case RX_SEG2:
    case RX_SEG3: {
        int idx = s->state == RX_SEG2 ? v17_training_seg2(&s->train) : v17_training_bridge(&s->train);
        /* large steps to converge, small ones to settle: the misadjustment
         * a step leaves is noise the data would carry */
        float mu = s->state == RX_SEG3 || s->count > 2000 ? MU_TRAIN / 8.0f
                   : s->count > 1000 ? MU_TRAIN / 3.0f : MU_TRAIN;
        zr = derotate(s, z, &rot);
        if (!s->lost)
            track(s, z, zr, point(v17_abcd[idx]), rot, mu, PLL_KP_TRAIN, PLL_KI_TRAIN);
        s->count++;
        if (s->state == RX_SEG2 && s->count == V17_SEG2_SHORT_SYMBOLS) {
            s->state = RX_DECIDE;
            s->nheld = 0;
            s->held_lost = 0;
        } else if (s->state == RX_SEG2 && s->count == V17_SEG2_LONG_SYMBOLS) {
            s->state = RX_SEG3;
            s->count = 0;
        } else if (s->state == RX_SEG3 && s->count == V17_SEG3_SYMBOLS) {
            start_data(s);
            /* a long training: its channel is the one to keep */
            dsp_equalizer_get_taps(&s->eq, s->eq_kept);
            s->clock_kept = s->tloop.integral;
            s->kept_ok = 1;
        }
        break;
    }
    case RX_DECIDE: {
        zr = derotate(s, z, &rot);
        s->held_lost += s->lost > 0;
        s->held[s->nheld++] = zr;
        if (s->nheld == DECIDE_SYMBOLS) {
            v17_training_t t = s->train;
            int near = s->held_lost;    /* lost symbols say nothing against */
            for (int k = 0; k < DECIDE_SYMBOLS; k++)
                near += cf_abs2(cf_sub(s->held[k], point(v17_abcd[v17_training_seg2(&t)]))) < DECIDE_NEAR;
            if (near >= DECIDE_SYMBOLS - 2) {
                /* long training: segment 2 goes on */
                s->train = t;
                s->state = RX_SEG2;
                s->count = V17_SEG2_SHORT_SYMBOLS + DECIDE_SYMBOLS;
            } else {
                /* short: these were the first symbols of segment 4 */
                start_data(s);
                for (int k = 0; k < DECIDE_SYMBOLS; k++)
                    n += data_symbol(s, z, s->held[k], rot, 0, bits + n);
            }
        }
        break;
    }
    case RX_DATA:
        zr = derotate(s, z, &rot);
        n = data_symbol(s, z, zr, rot, 1, bits);
        if (!s->lost && s->out_power < LOST_POWER * s->c->mean_energy)
            start_seek(s);
        break;
    default:
        break;
    }
    return n;
}

/* One T/2 sample at relative time `now` of the newest input sample. */
static int half_symbol(v17_rx_state_t *s, cf_t u, double now, uint8_t *bits)
{
    /* a hole taints the filters until its zeros have left them: no loop
     * learns from that, though decisions (and bits) go on */
    if (s->filling)
        s->lost = EQ_LEN + 2 * BP_SPAN;
    else if (s->lost > 0)
        s->lost--;
    int n = 0;
    dsp_equalizer_put(&s->eq, u);
    if (s->state == RX_SEEK) {
        if (s->filling)
            return 0;               /* nothing to seek in a hole */
        dsp_alternation_put(&s->alt, u);
        if (dsp_alternation_strength(&s->alt) > SEEK_STRENGTH)
            s->count++;
        else
            s->count = 0;
        if (s->count >= SEEK_SAMPLES) {
            /* symbol centres at `ahead` half symbols after this sample:
             * move the grid so every other sample falls on one */
            float ahead = dsp_alternation_timing(&s->alt);
            float next = ahead - floorf(ahead);
            if (next < 0.5f)
                next += 1.0f;
            s->t = now + next * HALF;
            s->on_symbol = !(fabsf(next - ahead) < 0.5f);
            s->state = RX_FREQ;
            s->count = 0;
            s->acc = cf(0.0f, 0.0f);
            return 0;
        }
    }
    if (s->on_symbol) {
        if (s->state >= RX_SEG2 && !s->lost) {
            float p = s->eq.power + 1e-9f;
            float err = dsp_gardner(s->prev_on, s->mid, u) / p;
            s->t += dsp_timing_loop_update(&s->tloop, err, TIMING_KP, TIMING_KI);
        }
        s->prev_on = u;
        if (s->state > RX_SEEK)
            n = symbol(s, u, bits);
    } else {
        s->mid = u;
    }
    s->on_symbol = !s->on_symbol;
    return n;
}

/* The half symbols due before the next input sample (s->t < 1.0), the
 * newest input being sample s->nsamples. */
static int half_symbols_due(v17_rx_state_t *s, uint8_t *bits)
{
    int n = 0;
    while (s->t < 1.0) {
        double now = s->t;
        double at = (double) s->nsamples + now;
        s->t += HALF;
        if (s->state != RX_IDLE) {
            cf_t rot = dsp_carrier_advance(&s->nco, at - s->last_instant);
            cf_t u = cf_mul(dsp_bandpass_eval(&s->bp, (float) now), rot);
            s->last_instant = at;
            n += half_symbol(s, u, now, bits + n);
        }
    }
    return n;
}

/* The sample loop; amp NULL: len samples lost (v17_rx_fillin).  The
 * carrier detector, the filter's ring position and the clock live in
 * locals between the half symbols (a store through any pointer would make
 * the compiler reload them from the state, -fno-strict-aliasing); the
 * arithmetic is exactly the state's, so the bits are too. */
static int run(v17_rx_state_t *s, const int16_t *amp, int len, uint8_t *bits)
{
    int n = 0;
    dsp_power_detector_t pd = s->pd;
    float *const ring = s->bp.buf;
    const int taps = s->bp.taps;
    int pos = s->bp.pos;
    double t = s->t;
    int64_t nsamples = s->nsamples;
    s->filling = amp == NULL;
    for (int i = 0; i < len; i++) {
        float x = 0.0f;
        if (amp) {
            x = (float) amp[i];
            int change = dsp_power_detector_update(&pd, x);
            if (change > 0 && s->state == RX_IDLE)
                start_seek(s);
            else if (change < 0)
                s->state = RX_IDLE;
        }
        /* dsp_bandpass_put */
        if (++pos >= taps)
            pos = 0;
        ring[pos] = x;
        ring[pos + taps] = x;
        if (t < 1.0) {
            s->bp.pos = pos;
            s->t = t;
            s->nsamples = nsamples;
            n += half_symbols_due(s, bits + n);
            t = s->t;
        }
        t -= 1.0;
        nsamples++;
    }
    s->nsamples = nsamples;
    s->pd = pd;
    s->bp.pos = pos;
    s->t = t;
    s->filling = 0;
    return n;
}

int v17_rx(v17_rx_state_t *s, const int16_t *amp, int len, uint8_t *bits)
{
    return run(s, amp, len, bits);
}

int v17_rx_fillin(v17_rx_state_t *s, int len, uint8_t *bits)
{
    return run(s, NULL, len, bits);
}

int v17_rx_carrier_present(const v17_rx_state_t *s)
{
    return s->pd.present;
}

int v17_rx_in_data(const v17_rx_state_t *s)
{
    return s->state == RX_DATA;
}

float v17_rx_snr_db(const v17_rx_state_t *s)
{
    /* the older window, else the newer, else (training) the running means */
    cf_t p = s->snr_snap[1].re > 0.0f ? s->snr_snap[1]
             : s->snr_snap[0].re > 0.0f ? s->snr_snap[0] : cf(s->sig_power, s->err_power);
    if (p.re <= 0.0f)
        return 0.0f;
    return 10.0f * log10f(p.re / (p.im + 1e-9f));
}

float v17_rx_power_dbm0(const v17_rx_state_t *s)
{
    return dsp_power_dbm0(s->pd.power);
}

float v17_rx_carrier_offset_hz(const v17_rx_state_t *s)
{
    return dsp_carrier_offset_hz(&s->nco) + s->dphase * 2400.0f / (2.0f * PI_F);
}

int v17_rx_symbols(const v17_rx_state_t *s, float *re_im, int n)
{
    return dsp_symtap_read(&s->tap, re_im, n);
}
