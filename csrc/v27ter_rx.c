/* v27ter_rx.c: V.27ter receiver.
 *
 * The training receiver of dsp_qamrx.c does the signal processing; this file
 * gives it what is V.27ter's: the 180-degree reversals of segment 3 as the
 * alternation, the long segment 4 pattern (its sign, left open by the
 * reversals, is found by the pattern search), the 8- or 4-phase slicer, and
 * the way back to bits: differential phase decoding (Tables 1 and 2) and the
 * descrambler with its guard.  It expects the long training, which T.30 uses
 * for V.27ter.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp_state.h"
#include "dsp_qamrx.h"
#include "qam_diff.h"
#include "v27ter_common.h"
#include "v27ter_rx.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

struct v27ter_rx_state_s {
    dsp_qamrx_t core;
    int rate;
    qam_diff_rx_t dec;
    cf_t pattern[V27TER_SEG4_LONG];
    int allocated;
};

/* The phase (in 45-degree steps) of the nearest point: in the quadrant of
 * z, 0, 45 or 90 degrees by comparing |im| with |re| tan(22.5 degrees)
 * (4800 bit/s, 8 phases) or with |re| (2400, 4 phases); then the quadrant
 * from the signs.  No arctangent (it took a tenth of the receiver's time). */
static int phase_of(cf_t z, int rate)
{
    const float t = 0.41421356f;            /* tan(22.5 degrees) */
    float a = fabsf(z.re), b = fabsf(z.im);
    int q = rate == 4800 ? (b < a * t ? 0 : a < b * t ? 2 : 1) : (b > a ? 2 : 0);
    if (z.re < 0.0f)
        q = z.im < 0.0f ? 4 + q : 4 - q;
    else if (z.im < 0.0f)
        q = (8 - q) & 7;
    return q;
}

static int decide(void *user, cf_t z, cf_t *point)
{
    v27ter_rx_state_t *s = user;
    int p = phase_of(z, s->rate);
    *point = v27ter_point(p);
    return p;
}

static void reference(void *user, cf_t point)
{
    v27ter_rx_state_t *s = user;
    s->dec.prev_phase = phase_of(point, 4800);
}

static int bits(void *user, int code, uint8_t *out, int deliver)
{
    v27ter_rx_state_t *s = user;
    return qam_diff_rx_bits(&s->dec, code, 0, out, deliver, v27ter_descramble);
}

static void start_decoder(v27ter_rx_state_t *s)
{
    qam_diff_rx_init(&s->dec, v27ter_bits_per_symbol(s->rate), v27ter_bits_per_symbol(s->rate));
}

size_t v27ter_rx_state_size(void)
{
    return sizeof(v27ter_rx_state_t);
}

v27ter_rx_state_t *v27ter_rx_init(v27ter_rx_state_t *s, int rate)
{
    if (rate != 4800 && rate != 2400)
        return NULL;
    if ((s = dsp_state_claim(s, sizeof(*s), offsetof(v27ter_rx_state_t, allocated))) == NULL)
        return NULL;
    s->rate = rate;
    start_decoder(s);
    /* segment 4, relative to a last reversal at phase 0 */
    scrambler_t scr = {V27TER_TRAINING_SEED, 0};
    int phase = 0;
    for (int i = 0; i < V27TER_SEG4_LONG; i++) {
        phase = (phase + 4 * v27ter_training_reversal(&scr)) & 7;
        s->pattern[i] = v27ter_point(phase);
    }

    dsp_qamrx_desc_t d;
    dsp_qamrx_desc_defaults(&d);
    d.baud = v27ter_baud(rate);
    d.carrier_hz = V27TER_CARRIER_HZ;
    d.beta = 0.5f;
    /* 17 T/2 taps (4 symbols each side) and, at 1200 baud, a front end of
     * 4 symbols (the 50 % roll-off pulse has little beyond them): 7 and 8 %
     * less time a sample than 25 taps and 6 symbols, with the same errors on
     * the bench's signals at and below the thresholds, 15.0 and 8.0 dB
     * (bench/test_modem_sensitivity.py) */
    d.span = rate == 2400 ? 4 : 6;
    d.eq_len = 17;
    d.alt_a = cf(1.0f, 0.0f);
    d.alt_b = cf(-1.0f, 0.0f);
    d.alt_symbols = V27TER_SEG3_LONG;
    d.alt_est_symbols = 8;
    d.alt_alpha = 1.0f / 16.0f;
    d.pattern = s->pattern;
    d.pattern_len = V27TER_SEG4_LONG;
    d.preamble_len = V27TER_SEG5;
    d.mu_train = 0.3f;
    d.mu_data = 0.02f;
    d.pll_kp_train = 0.1f;
    d.pll_ki_train = 0.003f;
    d.decide = decide;
    d.reference = reference;
    d.bits = bits;
    d.user = s;
    if (dsp_qamrx_init(&s->core, &d) < 0) {
        if (s->allocated)
            free(s);
        return NULL;
    }
    return s;
}

/* The same rate: as init leaves it, in the same memory and buffers.  The
 * other rate has another baud (filter, pattern, slicer): init again in place. */
int v27ter_rx_restart(v27ter_rx_state_t *s, int rate)
{
    if (rate != 4800 && rate != 2400)
        return -1;
    if (rate == s->rate) {
        start_decoder(s);
        dsp_qamrx_reset(&s->core);
        return 0;
    }
    int allocated = s->allocated;
    dsp_qamrx_free(&s->core);
    v27ter_rx_state_t *done = v27ter_rx_init(s, rate);
    s->allocated = allocated;
    return done ? 0 : -1;
}

int v27ter_rx_free(v27ter_rx_state_t *s)
{
    if (!s)
        return 0;
    dsp_qamrx_free(&s->core);
    if (s->allocated)
        free(s);
    return 0;
}

int v27ter_rx(v27ter_rx_state_t *s, const int16_t *amp, int len, uint8_t *out)
{
    return dsp_qamrx_rx(&s->core, amp, len, out);
}

int v27ter_rx_fillin(v27ter_rx_state_t *s, int len, uint8_t *out)
{
    return dsp_qamrx_rx_fillin(&s->core, len, out);
}

int v27ter_rx_max_bits(int len)
{
    return len / 5 * 3 + 16;
}

const dsp_qamrx_t *v27ter_rx_core(const v27ter_rx_state_t *s)
{
    return &s->core;
}
