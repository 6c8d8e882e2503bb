/*
 * C unit test of the receiver blocks csrc/dsp_*.c and the scramblers, built
 * with AddressSanitizer and UBSan by test_dsp_c.py.  Each block is driven on
 * its own with a synthetic signal whose right answer is known: the alternation
 * estimator finds a timing phase, the equaliser undoes a T/2 channel, the PLL
 * follows a frequency offset, the front end recovers symbols a shaper sent,
 * the power detector switches with hysteresis, the scramblers invert, the
 * differential phase decoder of V.29 and V.27ter undoes the encoder.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsp_agc.h"
#include "dsp_bitqueue.h"
#include "dsp_carrier.h"
#include "dsp_equalizer.h"
#include "dsp_filter.h"
#include "dsp_timing.h"
#include "qam_diff.h"
#include "scrambler.h"

#include "ctest.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static uint32_t rng = 12345u;
static uint32_t rnd(void)
{
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}
static float gauss(void)
{
    float u1 = (rnd() + 1.0f) / 16777217.0f, u2 = rnd() / 16777216.0f;
    return sqrtf(-2.0f * logf(u1)) * cosf(2.0f * (float) M_PI * u2);
}

static void test_alternation(void)
{
    for (int k = 0; k < 8; k++) {
        float phi = (float) (k * M_PI / 8.0);
        dsp_alternation_t a;
        dsp_alternation_init(&a, 1.0f / 32.0f);
        cf_t d = cf(0.6f, -0.8f);
        for (int n = 0; n < 400; n++)
            dsp_alternation_put(&a, cf_scale(d, cosf((float) (M_PI / 2.0 * n) + phi)));
        /* peaks at n = -2 phi / pi (mod 2); the next sample is n = 400 */
        float want = fmodf(-2.0f * phi / (float) M_PI - 400.0f + 410.0f, 2.0f);
        float got = dsp_alternation_timing(&a);
        float diff = fabsf(got - want);
        if (diff > 1.0f)
            diff = 2.0f - diff;
        CHECK(diff < 0.03f, "alternation timing %f, want %f", got, want);
        CHECK(dsp_alternation_strength(&a) > 0.95f, "alternation strength %f", dsp_alternation_strength(&a));
    }
    dsp_alternation_t a;
    dsp_alternation_init(&a, 1.0f / 32.0f);
    for (int n = 0; n < 2000; n++)
        dsp_alternation_put(&a, cf(gauss(), gauss()));
    CHECK(dsp_alternation_strength(&a) < 0.3f, "noise looks like an alternation: %f", dsp_alternation_strength(&a));
}

static void test_equalizer(void)
{
    /* QPSK at T/2 through the channel 1, 0.3j, -0.2 (half-symbol taps) */
    static const cf_t ch[3] = {{1.0f, 0.0f}, {0.0f, 0.3f}, {-0.2f, 0.0f}};
    cf_t x[4] = {{0}};
    dsp_equalizer_t eq;
    CHECK(dsp_equalizer_init(&eq, 17) == 0, "init");
    float mse = 0.0f;
    cf_t hist[16] = {{0}};
    for (int k = 0; k < 3000; k++) {
        cf_t sym = cf((rnd() & 1) ? 1.0f : -1.0f, (rnd() & 1) ? 1.0f : -1.0f);
        for (int h = 0; h < 2; h++) {
            /* the symbol sample, then the zero-ISI mid sample (none) */
            memmove(x + 1, x, 3 * sizeof(cf_t));
            x[0] = h == 0 ? sym : cf(0.0f, 0.0f);
            cf_t u = cf(0.0f, 0.0f);
            for (int i = 0; i < 3; i++)
                u = cf_add(u, cf_mul(ch[i], x[i]));
            dsp_equalizer_put(&eq, u);
        }
        memmove(hist + 1, hist, 15 * sizeof(cf_t));
        hist[0] = sym;
        /* the output lines up with the symbol (len-1)/4 = 4 symbols old */
        cf_t want = hist[4];
        cf_t z = dsp_equalizer_output(&eq);
        cf_t err = cf_sub(want, z);
        dsp_equalizer_adapt(&eq, err, 0.3f);
        if (k >= 2500)
            mse += cf_abs2(err) / 500.0f;
    }
    CHECK(mse < 1e-3f, "equaliser did not converge: mse %g", mse);
    dsp_equalizer_free(&eq);
}

static void test_carrier(void)
{
    dsp_carrier_t pll;
    dsp_carrier_init(&pll, 0.0f);
    float true_phase = 0.5f, w = 0.02f, err = 0.0f;
    for (int k = 0; k < 2000; k++) {
        true_phase += w;
        cf_t rot = dsp_carrier_advance(&pll, 1.0);
        cf_t z = cf_mul(cf(cosf(true_phase), sinf(true_phase)), rot);
        err = dsp_phase_error(z, cf(1.0f, 0.0f));
        dsp_carrier_track(&pll, err, 0.1f, 0.005f, 1.0f);
    }
    CHECK(fabsf(err) < 1e-3f, "PLL phase error %g", err);
    CHECK(fabs(pll.freq - w) < 1e-4, "PLL frequency %g, want %g", pll.freq, w);
    dsp_carrier_t nco;
    dsp_carrier_init(&nco, 1000.0f);
    CHECK(fabsf(dsp_carrier_offset_hz(&nco)) < 1e-3f, "nominal NCO has an offset");
    cf_t r = dsp_carrier_advance(&nco, 2.0);         /* 2 samples of 1000 Hz: pi/2 */
    CHECK(fabsf(r.re) < 1e-5f && fabsf(r.im + 1.0f) < 1e-5f, "NCO e^-j.pi/2 = (%g,%g)", r.re, r.im);
}

/* Symbols through dsp_shaper_t and back through dsp_bandpass_t, sampled at
 * the right instants: the front end is the matched filter of the shaper. */
static void test_shaper_and_front_end(void)
{
    enum { N = 600 };
    dsp_shaper_t sh;
    dsp_bandpass_t bp;
    CHECK(dsp_shaper_init(&sh, 10, 3, 10, 0.25f, 1700.0f, 1000.0f) == 0, "shaper init");
    CHECK(dsp_bandpass_init(&bp, 10.0f / 3.0f, 8, 0.25f, 1700.0f, 128) == 0, "bandpass init");
    static cf_t sym[N];
    static int16_t amp[N * 4];
    int n = 0;
    for (int k = 0; k < N; k++) {
        sym[k] = cf((float) ((int) (rnd() % 4) * 2 - 3), (float) ((int) (rnd() % 4) * 2 - 3));
        dsp_shaper_push(&sh, sym[k]);
        while (!dsp_shaper_needs_symbol(&sh))
            amp[n++] = dsp_shaper_sample(&sh);
    }
    /* symbol k is centred 5 symbols (the shaper's delay) after its start
     * k * 10/3, plus the front end's delay (half its length) */
    double delay = 5.0 * 10.0 / 3.0 + bp.delay;
    cf_t gain = cf(0.0f, 0.0f);
    float err = 0.0f, sig = 0.0f;
    int k = 20, i;
    for (i = 0; i < n && k < N - 20; i++) {
        dsp_bandpass_put(&bp, amp[i]);
        double t = k * 10.0 / 3.0 + delay;           /* wanted instant */
        if (t >= i && t < i + 1) {
            float mu = (float) (t - i);
            cf_t y = dsp_bandpass_eval(&bp, mu);
            double ph = 2.0 * M_PI * 1700.0 * t / 8000.0;
            y = cf_mul(y, cf((float) cos(ph), (float) -sin(ph)));
            if (k == 20)
                gain = cf_scale(cf_mulc(y, sym[k]), 1.0f / cf_abs2(sym[k]));
            cf_t e = cf_sub(y, cf_mul(gain, sym[k]));
            err += cf_abs2(e);
            sig += cf_abs2(cf_mul(gain, sym[k]));
            k++;
        }
    }
    CHECK(k > N / 2, "front end sampled only %d symbols", k);
    CHECK(10.0f * log10f(sig / err) > 28.0f, "shaper -> front end SNR (before any equaliser) %.1f dB", 10.0f * log10f(sig / err));
    float g = sqrtf(cf_abs2(gain));
    CHECK(g > 500.0f && g < 2000.0f, "front end gain %g for a shaper gain of 1000", g);
    dsp_shaper_free(&sh);
    dsp_bandpass_free(&bp);
}

/* The front end's dot product inline (SSE2 on x86-64) and in plain C: the
 * same bits at the filter lengths the modems use and others. */
static void test_bandpass_dot_is_plain_c(void)
{
    static const int lengths[] = {4, 8, 12, 36, 40, 44, 48};
    for (size_t k = 0; k < sizeof(lengths) / sizeof(lengths[0]); k++) {
        int taps = lengths[k];
        dsp_bandpass_t bp;
        CHECK(dsp_bandpass_init(&bp, 1.0f, taps, 0.25f, 1800.0f, 16) == 0, "bandpass init");
        CHECK(bp.taps == taps, "taps %d for a span of %d at 1 sample a symbol", bp.taps, taps);
        int same = 1;
        for (int i = 0; i < 500; i++) {
            dsp_bandpass_put(&bp, 3000.0f * gauss());
            float mu = (float) (i % 17) / 16.0f;
            cf_t a = dsp_bandpass_eval(&bp, mu);
            size_t at = (size_t) dsp_bandpass_phase(&bp, mu) * (size_t) taps;
            cf_t b = dsp_bandpass_dot_c(bp.buf + bp.pos + 1, bp.coef_re + at, bp.coef_im + at, taps);
            same &= memcmp(&a, &b, sizeof(a)) == 0;
        }
        CHECK(same, "bandpass dot product of %d taps: inline and plain C sums differ", taps);
        dsp_bandpass_free(&bp);
    }
}

static void test_power_detector(void)
{
    /* the dBm0 reference of faxengine/levels.py: a full-scale sine is +3.14 dBm0 (G.711) */
    float full = 32767.0f * 32767.0f / 2.0f;
    CHECK(fabsf(dsp_dbm0_to_power(3.14f) / full - 1.0f) < 1e-5f, "full-scale sine at %f of its power",
          dsp_dbm0_to_power(3.14f) / full);
    CHECK(fabsf(dsp_power_dbm0(full) - 3.14f) < 1e-4f, "full-scale sine measured at %f dBm0", dsp_power_dbm0(full));
    dsp_power_detector_t pd;
    dsp_power_detector_init(&pd, -40.0f, -45.0f, 40.0f);
    float on = sqrtf(2.0f * dsp_dbm0_to_power(-38.0f)), mid = sqrtf(2.0f * dsp_dbm0_to_power(-42.0f));
    int changes = 0;
    for (int i = 0; i < 800; i++)
        changes += dsp_power_detector_update(&pd, mid * sinf(0.7f * i)) != 0;
    CHECK(!pd.present && changes == 0, "came on below the on level");
    for (int i = 0; i < 800; i++)
        dsp_power_detector_update(&pd, on * sinf(0.7f * i));
    CHECK(pd.present, "did not come on at -38 dBm0");
    CHECK(fabsf(dsp_power_dbm0(pd.power) + 38.0f) < 0.5f, "level %f", dsp_power_dbm0(pd.power));
    for (int i = 0; i < 800; i++)
        dsp_power_detector_update(&pd, mid * sinf(0.7f * i));
    CHECK(pd.present, "hysteresis: went off between the thresholds");
    for (int i = 0; i < 800; i++)
        dsp_power_detector_update(&pd, 0.0f);
    CHECK(!pd.present, "did not go off in silence");
}

static void test_scramblers(void)
{
    enum { N = 20000 };
    scrambler_t a = {0x3C, 0}, b = {0, 0}, c = {0x1234, 0}, d = {0, 0}, plain = {0x3C, 0};
    int bad29 = 0, bad27 = 0, guarded = 0;
    for (int i = 0; i < N; i++) {
        int bit = (int) (rnd() & 1);
        if (i % 1000 < 100)
            bit = 0;                    /* long runs, where the guard acts */
        int line27 = v27ter_scramble(&a, bit);
        /* the same scrambler without its guard, fed the same line history */
        int unguarded = (bit ^ (int) (plain.reg >> 5) ^ (int) (plain.reg >> 6)) & 1;
        plain.reg = (plain.reg << 1) | (uint32_t) line27;
        guarded += unguarded != line27;
        int out27 = v27ter_descramble(&b, line27);
        int out29 = v29_descramble(&d, v29_scramble(&c, bit));
        if (i >= 32) {
            bad27 += out27 != bit;
            bad29 += out29 != bit;
        }
    }
    CHECK(bad29 == 0, "V.29 descrambler: %d errors", bad29);
    CHECK(bad27 == 0, "V.27ter descrambler: %d errors", bad27);
    CHECK(guarded > 0, "the V.27ter guard never acted");
}

static void test_bitqueue(void)
{
    dsp_bitqueue_t q = {0};
    uint8_t in[3000];
    for (int i = 0; i < 3000; i++)
        in[i] = (uint8_t) (rnd() & 0xFF);    /* only bit 0 is kept */
    int ok = 1;
    size_t got = 0;
    for (int round = 0; round < 10; round++) {
        CHECK(dsp_bitqueue_put(&q, in, 3000) == 0, "put");
        while (dsp_bitqueue_len(&q) > 1000) {
            int bit = dsp_bitqueue_get(&q);
            ok &= bit == (in[got % 3000] & 1);
            got++;
        }
    }
    CHECK(ok, "bit queue returned other bits");
    dsp_bitqueue_free(&q);
}

/* qam_diff.h: scrambled, differentially encoded and back, every symbol value
 * at both table sizes, with and without V.29's amplitude bit above them. */
static void test_qam_diff(void)
{
    for (int step_bits = 2; step_bits <= 3; step_bits++)
        for (int amp = 0; amp <= 1; amp++) {
            int bps = step_bits + amp, phase = 0, ok = 1;
            scrambler_t scr = {0, 0};
            qam_diff_rx_t d;
            qam_diff_rx_init(&d, bps, step_bits);
            for (int n = 0; n < 2000; n++) {
                int q = (int) (rnd() & ((1u << bps) - 1)), line = 0;
                uint8_t out[4];
                for (int i = bps - 1; i >= 0; i--)
                    line = (line << 1) | v29_scramble(&scr, (q >> i) & 1);
                phase = qam_diff_next_phase(phase, line, qam_phase_steps(step_bits));
                ok &= qam_diff_rx_bits(&d, phase, line >> step_bits, out, 1, v29_descramble) == bps;
                for (int i = 0; i < bps; i++)
                    ok &= out[i] == ((q >> (bps - 1 - i)) & 1);
            }
            CHECK(ok, "qam_diff: %d phase bits + %d amplitude bit did not come back", step_bits, amp);
        }
}

int main(void)
{
    test_alternation();
    test_equalizer();
    test_carrier();
    test_shaper_and_front_end();
    test_bandpass_dot_is_plain_c();
    test_power_detector();
    test_scramblers();
    test_bitqueue();
    test_qam_diff();
    return ctest_report();
}
