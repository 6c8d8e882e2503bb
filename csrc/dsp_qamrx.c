/* dsp_qamrx.c: the training QAM/PSK receiver core.  See dsp_qamrx.h. */
#include <math.h>
#include <string.h>

#include "dsp_qamrx.h"

/* -DQAMRX_DEBUG traces the training state machine on stderr */
#ifdef QAMRX_DEBUG
#include <stdio.h>
#define TRACE(...) fprintf(stderr, __VA_ARGS__)
#else
#define TRACE(...) do { } while (0)
#endif

int dsp_qamrx_init(dsp_qamrx_t *s, const dsp_qamrx_desc_t *desc)
{
    memset(s, 0, sizeof(*s));
    s->d = *desc;
    s->sps = 8000.0f / desc->baud;
    s->half = s->sps / 2.0f;
    s->delay = (desc->eq_len - 1) / 4;
    s->ted_max = desc->ted_max_ppm * 1e-6f * s->sps;
    if (dsp_bandpass_init(&s->bp, s->sps, desc->span, desc->beta, desc->carrier_hz, 128) < 0)
        return -1;
    if (dsp_equalizer_init(&s->eq, desc->eq_len) < 0) {
        dsp_bandpass_free(&s->bp);
        return -1;
    }
    dsp_power_detector_init(&s->pd, desc->carrier_on_dbm0, desc->carrier_off_dbm0, 40.0f);
    dsp_qamrx_restart(s);
    return 0;
}

/* As init leaves it, in the same memory and buffers (a modem's restart). */
void dsp_qamrx_reset(dsp_qamrx_t *s)
{
    dsp_qamrx_desc_t d = s->d;
    dsp_bandpass_t bp = s->bp;
    dsp_equalizer_t eq = s->eq;
    float sps = s->sps, half = s->half, ted_max = s->ted_max;
    int delay = s->delay;
    memset(s, 0, sizeof(*s));
    s->d = d;
    s->bp = bp;
    s->eq = eq;
    s->sps = sps;
    s->half = half;
    s->ted_max = ted_max;
    s->delay = delay;
    dsp_bandpass_clear(&s->bp);
    dsp_equalizer_clear(&s->eq);
    dsp_power_detector_init(&s->pd, d.carrier_on_dbm0, d.carrier_off_dbm0, 40.0f);
    dsp_qamrx_restart(s);
}

void dsp_qamrx_free(dsp_qamrx_t *s)
{
    dsp_bandpass_free(&s->bp);
    dsp_equalizer_free(&s->eq);
}

/* Back to SEEK: forget timing, carrier and equaliser (not the power meter). */
void dsp_qamrx_restart(dsp_qamrx_t *s)
{
    dsp_equalizer_reset(&s->eq, cf(1.0f, 0.0f));
    dsp_nco_init(&s->nco, s->d.carrier_hz);
    dsp_carrier_init(&s->pll, 0.0f);
    dsp_alternation_init(&s->alt, s->d.alt_alpha);
    dsp_timing_loop_init(&s->tl);
    s->rot = cf(1.0f, 0.0f);
    s->on_next = 0;
    s->last_on = s->last_mid = cf(0.0f, 0.0f);
    s->state = DSP_QAMRX_SEEK;
    s->count = 0;
    s->lost = 0;
    s->sig_power = 0.0f;
    s->err_power = 0.0f;
}

static void move_time(dsp_qamrx_t *s, double dt)
{
    s->t_next += dt;
    s->rot = dsp_nco_advance(&s->nco, dt);
}

static cf_t alt_point(const dsp_qamrx_t *s, int index)
{
    return (index & 1) ? s->first_b : s->first_a;
}

/* ALT_EST done: gain, phase, frequency and order of the alternation. */
static void finish_estimate(dsp_qamrx_t *s)
{
    int k = s->d.alt_est_symbols;
    cf_t a = s->d.alt_a, b = s->d.alt_b;
    cf_t se = cf_add(s->sum_even[0], s->sum_even[1]);
    cf_t so = cf_add(s->sum_odd[0], s->sum_odd[1]);
    cf_t c0 = cf_add(cf_mulc(se, a), cf_mulc(so, b));
    cf_t c1 = cf_add(cf_mulc(se, b), cf_mulc(so, a));
    if (cf_abs2(c1) > cf_abs2(c0)) {
        cf_t t = a;
        a = b;
        b = t;
    }
    s->first_a = a;
    s->first_b = b;
    float norm = (k / 2) * (cf_abs2(a) + cf_abs2(b)) * 0.5f;
    cf_t g1 = cf_scale(cf_add(cf_mulc(s->sum_even[0], a), cf_mulc(s->sum_odd[0], b)), 1.0f / norm);
    cf_t g2 = cf_scale(cf_add(cf_mulc(s->sum_even[1], a), cf_mulc(s->sum_odd[1], b)), 1.0f / norm);
    float dphi = dsp_phase_error(g2, g1);               /* over k/2 symbols */
    /* The PLL runs after the equaliser, in radians per symbol, so that no
     * equaliser delay sits inside its loop; the front end stays nominal. */
    s->pll.freq = dphi / (k / 2);
    s->pll.phase = -s->pll.freq * s->delay;
    /* gain and phase now, a quarter of the window after g2's centre */
    float half_turn = dphi * 0.5f;
    cf_t g = cf_mul(g2, cf(cosf(half_turn), sinf(half_turn)));
    float m = cf_abs2(g);
    if (m <= 0.0f)
        m = 1.0f;
    dsp_equalizer_reset(&s->eq, cf(g.re / m, -g.im / m));   /* 1/g */
    TRACE("alt est: g=(%.3g,%.3g) dphi=%.3f order=%s\n", g.re, g.im, dphi, cf_abs2(c1) > cf_abs2(c0) ? "BA" : "AB");
    s->alt_index = k - s->delay;
    s->state = DSP_QAMRX_ALT_TRACK;
    s->count = 0;
    s->ring_pos = 0;
}

/* Has the conditioning pattern begun exactly DSP_QAMRX_WINDOW symbols ago?
 * Returns +1 or -1 (its sign) or 0. */
static int pattern_started(const dsp_qamrx_t *s)
{
    float d_alt = 0.0f, d_pos = 0.0f, d_neg = 0.0f;
    for (int j = 0; j < DSP_QAMRX_WINDOW; j++) {
        int r = (s->ring_pos + j) % DSP_QAMRX_WINDOW;    /* oldest first */
        cf_t z = s->ring_z[r];
        cf_t p = s->d.pattern[j];
        d_alt += cf_abs2(cf_sub(z, s->ring_d[r]));
        d_pos += cf_abs2(cf_sub(z, p));
        d_neg += cf_abs2(cf_add(z, p));
    }
    if (d_pos < 0.2f * d_alt && d_pos <= d_neg)
        return 1;
    if (d_neg < 0.2f * d_alt)
        return -1;
    return 0;
}

/* Equaliser output, derotated by the PLL; *rot keeps the derotation so the
 * equaliser's error can be taken back to its own frame. */
static cf_t equalized(dsp_qamrx_t *s, cf_t *rot)
{
    *rot = dsp_carrier_advance(&s->pll, 1.0);
    return cf_mul(dsp_equalizer_output(&s->eq), *rot);
}

static void adapt(dsp_qamrx_t *s, cf_t err, cf_t rot, float mu)
{
    dsp_equalizer_adapt(&s->eq, cf_mulc(err, rot), mu);
}

/* The NLMS step on the known pattern: mu_train for its first mu_hold
 * symbols (to converge), then halving every mu_half symbols down to
 * mu_data, so the equaliser ends its training with the small misadjustment
 * of the data step instead of carrying the large one of mu_train into the
 * first few hundred data symbols. */
static float pattern_mu(const dsp_qamrx_t *s)
{
    const dsp_qamrx_desc_t *d = &s->d;
    int k = s->pattern_idx - d->mu_hold;
    if (d->mu_half <= 0 || k <= 0)
        return d->mu_train;
    float mu = d->mu_train * exp2f(-(float) k / (float) d->mu_half);
    return mu < d->mu_data ? d->mu_data : mu;
}

static int on_symbol(dsp_qamrx_t *s, cf_t u, uint8_t *bits)
{
    const dsp_qamrx_desc_t *d = &s->d;
    cf_t z, want, rot;
    int n = 0;

    switch (s->state) {
    case DSP_QAMRX_ALT_EST: {
        int h = (s->count >= d->alt_est_symbols / 2);
        if (s->lost)
            u = cf(0.0f, 0.0f);         /* a lost symbol adds nothing to the sums */
        if (s->count & 1)
            s->sum_odd[h] = cf_add(s->sum_odd[h], u);
        else
            s->sum_even[h] = cf_add(s->sum_even[h], u);
        if (++s->count >= d->alt_est_symbols)
            finish_estimate(s);
        return 0;
    }
    case DSP_QAMRX_ALT_TRACK:
        z = equalized(s, &rot);
        want = alt_point(s, s->alt_index++);
        /* only on symbols that look like the alternation: once the pattern
         * has begun, its symbols would pull the loop away */
        if (!s->lost && cf_abs2(cf_sub(z, want)) < 0.25f * cf_abs2(want))
            dsp_carrier_track(&s->pll, dsp_phase_error(z, want), d->pll_kp_acq, d->pll_ki_acq, 1.0f);
        s->ring_z[s->ring_pos] = z;
        s->ring_d[s->ring_pos] = want;
        s->ring_pos = (s->ring_pos + 1) % DSP_QAMRX_WINDOW;
        if (++s->count >= DSP_QAMRX_WINDOW + 8) {
            int sign = pattern_started(s);
            if (sign) {
                TRACE("pattern found sign %d\n", sign);
                if (sign < 0)
                    dsp_equalizer_rotate(&s->eq, cf(-1.0f, 0.0f));
                s->pattern_idx = DSP_QAMRX_WINDOW;
                s->state = DSP_QAMRX_PATTERN;
                s->count = 0;
            }
        }
        if (s->state == DSP_QAMRX_ALT_TRACK && s->count > d->alt_symbols + 2 * DSP_QAMRX_WINDOW)
            dsp_qamrx_restart(s);       /* no pattern: not our signal */
        return 0;
    case DSP_QAMRX_PATTERN:
        z = equalized(s, &rot);
        want = d->pattern[s->pattern_idx];
        if (!s->lost) {
            adapt(s, cf_sub(want, z), rot, pattern_mu(s));
            dsp_carrier_track(&s->pll, dsp_phase_error(z, want), d->pll_kp_train, d->pll_ki_train, 1.0f);
        }
        if (++s->pattern_idx >= d->pattern_len) {
            d->reference(d->user, want);
            s->state = DSP_QAMRX_PREAMBLE;
            s->count = 0;
        }
        return 0;
    case DSP_QAMRX_PREAMBLE:
    case DSP_QAMRX_DATA: {
        z = equalized(s, &rot);
        int code = d->decide(d->user, z, &want);
        cf_t err = cf_sub(want, z);
        if (!s->lost) {
            adapt(s, err, rot, s->state == DSP_QAMRX_DATA ? d->mu_data : d->mu_train * 0.25f);
            dsp_carrier_track(&s->pll, dsp_phase_error(z, want), d->pll_kp_data, d->pll_ki_data, 1.0f);
            s->sig_power += (cf_abs2(want) - s->sig_power) * (1.0f / 256.0f);
            s->err_power += (cf_abs2(err) - s->err_power) * (1.0f / 256.0f);
        }
        if (s->state == DSP_QAMRX_DATA && !s->lost)
            dsp_symtap_put(&s->tap, z);
        n = d->bits(d->user, code, bits, s->state == DSP_QAMRX_DATA);
        if (s->state == DSP_QAMRX_PREAMBLE && ++s->count >= d->preamble_len)
            s->state = DSP_QAMRX_DATA;
        return n;
    }
    }
    return 0;
}

static int half_sample(dsp_qamrx_t *s, cf_t u, uint8_t *bits)
{
    /* a hole taints the filters until its zeros have left them: no loop
     * learns from that, though decisions (and bits) go on */
    if (s->filling)
        s->lost = s->d.eq_len + 2 * s->d.span;
    else if (s->lost > 0)
        s->lost--;
    dsp_equalizer_put(&s->eq, u);
    if (s->state == DSP_QAMRX_SEEK) {
        if (s->filling)
            return 0;               /* nothing to seek in a hole */
        dsp_alternation_put(&s->alt, u);
        /* an alternation, and a strong one: the fading tail of a signal
         * just gone (the carrier detector is still on) must not look like one */
        if (++s->count > (int) (2.0f / s->d.alt_alpha) && dsp_alternation_strength(&s->alt) > 0.5f
            && s->alt.power > s->pd.on_level) {
            /* Jump so that the next T/2 sample falls on a symbol centre. */
            TRACE("alternation: strength %.2f timing %.2f\n", dsp_alternation_strength(&s->alt), dsp_alternation_timing(&s->alt));
            move_time(s, dsp_alternation_timing(&s->alt) * s->half);
            s->on_next = 1;
            s->state = DSP_QAMRX_ALT_EST;
            s->count = 0;
            s->sum_even[0] = s->sum_even[1] = s->sum_odd[0] = s->sum_odd[1] = cf(0.0f, 0.0f);
        }
        return 0;
    }
    if (!s->on_next) {
        s->last_mid = u;
        s->on_next = 1;
        return 0;
    }
    s->on_next = 0;
    if (s->state >= DSP_QAMRX_ALT_TRACK && !s->lost) {
        float e = dsp_gardner(s->last_on, s->last_mid, u) / (s->eq.power + 1e-9f);
        int data = s->state >= DSP_QAMRX_PREAMBLE;
        float adj = dsp_timing_loop_update(&s->tl, e, data ? s->d.ted_kp_data : s->d.ted_kp_train,
                                           data ? s->d.ted_ki_data : s->d.ted_ki_train);
        /* The integral stands for the clock difference of the two ends; on
         * a dispersive channel (V.56bis EDD) Gardner's error on the training
         * pattern is noisy enough to wind it up to several hundred ppm, and
         * the data then starts on a timing that walks away faster than the
         * data step of the equaliser can follow.  Held to what clocks can
         * differ by, its noise stays a timing jitter the equaliser absorbs. */
        if (s->ted_max > 0.0f) {
            float held = fminf(fmaxf(s->tl.integral, -s->ted_max), s->ted_max);
            adj += s->tl.integral - held;
            s->tl.integral = held;
        }
        move_time(s, adj);
    }
    s->last_on = u;
    return on_symbol(s, u, bits);
}

/* The sample loop; amp NULL: len samples lost (dsp_qamrx_rx_fillin). */
static int run(dsp_qamrx_t *s, const int16_t *amp, int len, uint8_t *bits)
{
    int nbits = 0;
    s->filling = amp == NULL;
    for (int i = 0; i < len; i++) {
        float x = 0.0f;
        if (amp) {
            x = (float) amp[i];
            if (dsp_power_detector_update(&s->pd, x) < 0)
                dsp_qamrx_restart(s);
        }
        dsp_bandpass_put(&s->bp, x);
        s->t_next -= 1.0;
        if (!s->pd.present) {
            /* keep the schedule running, without the work */
            while (s->t_next < 1.0)
                move_time(s, s->half);
            continue;
        }
        while (s->t_next < 1.0) {
            float mu = (float) s->t_next;
            if (mu < 0.0f)
                mu = 0.0f;
            cf_t y = dsp_bandpass_eval(&s->bp, mu);
            cf_t u = cf_mul(y, s->rot);
            move_time(s, s->half);
            nbits += half_sample(s, u, bits + nbits);
        }
    }
    s->filling = 0;
    return nbits;
}

int dsp_qamrx_rx(dsp_qamrx_t *s, const int16_t *amp, int len, uint8_t *bits)
{
    return run(s, amp, len, bits);
}

/* Samples that never arrived (a lost packet), as spandsp's *_rx_fillin: the
 * carrier detector holds its state, the schedule of T/2 instants and the
 * NCO and PLL phases move on by len samples, so timing and carrier are where
 * they would be; zeros go through the filters, no loop adapts (there is
 * nothing to train on) and the decisions made on the hole give its bits. */
int dsp_qamrx_rx_fillin(dsp_qamrx_t *s, int len, uint8_t *bits)
{
    return run(s, NULL, len, bits);
}

void dsp_qamrx_desc_defaults(dsp_qamrx_desc_t *d)
{
    memset(d, 0, sizeof(*d));
    d->mu_train = 0.5f;
    d->mu_data = 0.03f;
    /* PLL: fast on the alternation, slower on the pattern, slow in data
     * (phase noise there costs SNR; the frequency was found in training) */
    d->pll_kp_acq = 0.3f;
    d->pll_ki_acq = 0.02f;
    d->pll_kp_train = 0.15f;
    d->pll_ki_train = 0.005f;
    d->pll_kp_data = 0.05f;
    d->pll_ki_data = 0.0005f;
    /* Gardner: the integral follows +-100 ppm of sample clock difference */
    d->ted_kp_train = 0.05f;
    d->ted_ki_train = 0.001f;
    d->ted_kp_data = 0.01f;
    d->ted_ki_data = 0.0001f;
    d->carrier_on_dbm0 = -47.0f;
    d->carrier_off_dbm0 = -52.0f;
}

int dsp_qamrx_carrier_present(const dsp_qamrx_t *s)
{
    return s->pd.present;
}

int dsp_qamrx_trained(const dsp_qamrx_t *s)
{
    return s->state == DSP_QAMRX_DATA;
}

float dsp_qamrx_signal_power_dbm0(const dsp_qamrx_t *s)
{
    return dsp_power_dbm0(s->pd.power);
}

float dsp_qamrx_snr_db(const dsp_qamrx_t *s)
{
    if (s->state != DSP_QAMRX_DATA || s->err_power <= 0.0f)
        return 0.0f;
    return 10.0f * log10f(s->sig_power / s->err_power);
}

int dsp_qamrx_symbols(const dsp_qamrx_t *s, float *re_im, int n)
{
    return dsp_symtap_read(&s->tap, re_im, n);
}
