/* v29rx.c: V.29 receiver.
 *
 * The training receiver of dsp_qamrx.c does the signal processing (front
 * end, timing, equaliser, carrier); this file gives it what is V.29's: the
 * alternation A B, the segment 3 pattern, the slicer over the 16, 8 or 4
 * points of the rate, and the way back from decisions to bits: differential
 * phase decoding (V.29 Table 1), the amplitude bit Q1 at 9600 bit/s, and the
 * descrambler 1 + x^-18 + x^-23.  See v29_common.h for the signal space.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp_state.h"
#include "dsp_qamrx.h"
#include "qam_diff.h"
#include "v29_common.h"
#include "v29rx.h"

/* The slicer as a table: the code of the nearest point for every cell of
 * SLICE_STEP over the plane (|re|, |im| <= 6, the outermost points are at
 * 5), filled by the exact search of nearest() at each cell's centre.  One
 * look-up a symbol instead of a search whose branches random data makes
 * unpredictable (it took a sixth of the receiver's time); a cell straddles
 * a decision boundary by at most a sixteenth of a unit. */
#define SLICE_STEP 0.125f
#define SLICE_LO (-6.0f)
#define SLICE_N 96

/* The slicer of a rate depends on nothing else: built at its first use
 * and shared read-only by every receiver (building it, 9216 nearest-point
 * searches, had cost each new receiver more than 1 % of 10 s of its work). */
typedef struct {
    uint8_t slice[SLICE_N * SLICE_N];
    cf_t code_point[16];
    int ready;
} v29_slicer_t;

static v29_slicer_t slicers[3];     /* 9600, 7200, 4800 */

typedef struct {
    cf_t sector[6];         /* the points at -45, 0, +45 degrees */
    int sector_code[6];     /* phase | high << 3 */
    int nsector;
} v29_sectors_t;

struct v29_rx_state_s {
    dsp_qamrx_t core;
    const v29_slicer_t *slicer;
    qam_diff_rx_t dec;
    cf_t pattern[V29_SEG3];
    int rate;
    int allocated;
};

/* Nearest point.  Every V.29 constellation is symmetric under 90-degree
 * rotation, so z is first turned by r quarter turns into the sector within
 * 45 degrees of the positive real axis; there only the points at -45, 0 and
 * +45 degrees can be nearest (the one at 90 degrees is the mirror, across
 * the 45-degree line, of one at 0 degrees on z's side). */
static int nearest(const v29_sectors_t *s, cf_t z, cf_t *point)
{
    /* quarter turns r, chosen and applied without branches (random data
     * makes every branch here a coin toss for the predictor) */
    int horiz = fabsf(z.re) >= fabsf(z.im);
    int neg = horiz ? z.re < 0.0f : z.im < 0.0f;
    int r = (horiz ? 0 : 1) + 2 * neg;
    static const float rot_re[4] = {1.0f, 0.0f, -1.0f, 0.0f};
    static const float rot_im[4] = {0.0f, -1.0f, 0.0f, 1.0f};   /* e^{-j r pi/2} */
    cf_t w = cf_mul(z, cf(rot_re[r], rot_im[r]));
    int best = 0;
    float dmin = cf_abs2(cf_sub(w, s->sector[0]));
    for (int i = 1; i < s->nsector; i++) {
        float d = cf_abs2(cf_sub(w, s->sector[i]));
        best = d < dmin ? i : best;
        dmin = d < dmin ? d : dmin;
    }
    int code = s->sector_code[best];
    int phase = (code + 2 * r) & 7;
    int high = code >> 3;
    *point = v29_point(phase, high);
    return phase | (high << 3);
}

static int decide(void *user, cf_t z, cf_t *point)
{
    const v29_rx_state_t *s = user;
    int ix = (int) ((z.re - SLICE_LO) * (1.0f / SLICE_STEP));
    int iy = (int) ((z.im - SLICE_LO) * (1.0f / SLICE_STEP));
    ix = ix < 0 ? 0 : ix >= SLICE_N ? SLICE_N - 1 : ix;
    iy = iy < 0 ? 0 : iy >= SLICE_N ? SLICE_N - 1 : iy;
    int code = s->slicer->slice[iy * SLICE_N + ix];
    *point = s->slicer->code_point[code];
    return code;
}

static void reference(void *user, cf_t point)
{
    v29_rx_state_t *s = user;
    cf_t dummy;
    /* the last pattern symbol is a C or a D, both on the lowest ring that the
     * 9600 slicer also has, or the high D (-3,3) */
    int best = 0;
    float dmin = 1e30f;
    for (int p = 0; p < 8; p++)
        for (int h = 0; h < 2; h++) {
            float d = cf_abs2(cf_sub(point, v29_point(p, h)));
            if (d < dmin) {
                dmin = d;
                best = p;
            }
        }
    (void) dummy;
    s->dec.prev_phase = best;
}

/* code: phase | Q1 << 3 (decide()); Q1 is 0 below 9600 bit/s */
static int bits(void *user, int code, uint8_t *out, int deliver)
{
    v29_rx_state_t *s = user;
    return qam_diff_rx_bits(&s->dec, code & 7, code >> 3, out, deliver, v29_descramble);
}

static void start_decoder(v29_rx_state_t *s)
{
    qam_diff_rx_init(&s->dec, v29_bits_per_symbol(s->rate), s->rate == 4800 ? 2 : 3);
}

/* Racing builders write the same values; ready is published last. */
static const v29_slicer_t *slicer_for(int rate)
{
    v29_slicer_t *t = &slicers[rate == 9600 ? 0 : rate == 7200 ? 1 : 2];
    if (__atomic_load_n(&t->ready, __ATOMIC_ACQUIRE))
        return t;
    v29_sectors_t sec = {.nsector = 0};
    for (int p = -1; p <= 1; p++) {
        if (rate == 4800 && p != 0)
            continue;
        for (int h = 0; h < (rate == 9600 ? 2 : 1); h++) {
            sec.sector[sec.nsector] = v29_point(p & 7, h);
            sec.sector_code[sec.nsector] = (p & 7) | (h << 3);
            sec.nsector++;
        }
    }
    for (int iy = 0; iy < SLICE_N; iy++)
        for (int ix = 0; ix < SLICE_N; ix++) {
            cf_t p;
            int code = nearest(&sec, cf(SLICE_LO + (ix + 0.5f) * SLICE_STEP, SLICE_LO + (iy + 0.5f) * SLICE_STEP), &p);
            t->slice[iy * SLICE_N + ix] = (uint8_t) code;
            t->code_point[code] = p;
        }
    __atomic_store_n(&t->ready, 1, __ATOMIC_RELEASE);
    return t;
}

size_t v29_rx_state_size(void)
{
    return sizeof(v29_rx_state_t);
}

v29_rx_state_t *v29_rx_init(v29_rx_state_t *s, int rate)
{
    if (rate != 9600 && rate != 7200 && rate != 4800)
        return NULL;
    if ((s = dsp_state_claim(s, sizeof(*s), offsetof(v29_rx_state_t, allocated))) == NULL)
        return NULL;
    s->rate = rate;
    start_decoder(s);
    s->slicer = slicer_for(rate);
    unsigned reg = V29_TRAINING_SEED;
    for (int i = 0; i < V29_SEG3; i++)
        s->pattern[i] = v29_training_bit(&reg) ? v29_cond_d(rate) : cf(3.0f, 0.0f);

    dsp_qamrx_desc_t d;
    dsp_qamrx_desc_defaults(&d);
    d.baud = V29_BAUD;
    d.carrier_hz = V29_CARRIER_HZ;
    d.beta = 0.25f;
    /* 37 T/2 taps (9 symbols each side), a training step that settles to
     * the data step by the end of the pattern, and a slower data step:
     * together measured to move the 9600 bit/s threshold from 20.0 to
     * 19.0 dB (bench/test_modem_sensitivity.py; 41 taps did too, but
     * trained too slowly at -43 dBm0 through mu-law).  The 4 points of
     * 4800 bit/s need less: 25 taps and a front end of 6 symbols leave its
     * threshold at 11.0 dB (the decision SNR 0.02 dB lower) for 8 % less
     * time a sample; 7200 keeps 37 taps, which the delay-distorted
     * channels need (tests/modem/test_channels.py: 25 taps fail
     * v56bis-ad5-edd2 there) */
    d.span = rate == 4800 ? 6 : 8;
    d.eq_len = rate == 4800 ? 25 : 37;
    d.mu_hold = 128;
    d.mu_half = 96;
    d.mu_data = 0.02f;
    /* the timing loop may follow the +-100 ppm of each end's clock, so
     * 200 ppm between them, and no more: on V.56bis's delay-distorted
     * channels the training pattern winds the Gardner integral up to
     * +-750 ppm, and which value the data inherits is chance (one symbol
     * more of equaliser delay, 33 -> 37 taps, turned 200 into 540 ppm on
     * ad9-edd2 and made errors at 40 dB; tests/modem/test_channels.py) */
    d.ted_max_ppm = 200.0f;
    d.alt_a = cf(-3.0f, 0.0f);
    d.alt_b = v29_alt_b(rate);
    d.alt_symbols = V29_SEG2;
    d.alt_est_symbols = 16;
    d.alt_alpha = 1.0f / 32.0f;
    d.pattern = s->pattern;
    d.pattern_len = V29_SEG3;
    d.preamble_len = V29_SEG4;
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

/* The same rate: as init leaves it, in the same memory and buffers.  Another
 * rate: its tables and training are another's, so init again in place. */
int v29_rx_restart(v29_rx_state_t *s, int rate)
{
    if (rate != 9600 && rate != 7200 && rate != 4800)
        return -1;
    if (rate == s->rate) {
        start_decoder(s);
        dsp_qamrx_reset(&s->core);
        return 0;
    }
    int allocated = s->allocated;
    dsp_qamrx_free(&s->core);
    v29_rx_state_t *done = v29_rx_init(s, rate);
    s->allocated = allocated;
    return done ? 0 : -1;
}

int v29_rx_free(v29_rx_state_t *s)
{
    if (!s)
        return 0;
    dsp_qamrx_free(&s->core);
    if (s->allocated)
        free(s);
    return 0;
}

int v29_rx(v29_rx_state_t *s, const int16_t *amp, int len, uint8_t *out)
{
    return dsp_qamrx_rx(&s->core, amp, len, out);
}

int v29_rx_fillin(v29_rx_state_t *s, int len, uint8_t *out)
{
    return dsp_qamrx_rx_fillin(&s->core, len, out);
}

int v29_rx_max_bits(int len)
{
    return (len * 3) / 10 * 4 + 16;
}

const dsp_qamrx_t *v29_rx_core(const v29_rx_state_t *s)
{
    return &s->core;
}
