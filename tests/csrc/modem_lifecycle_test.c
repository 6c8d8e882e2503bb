/*
 * C unit test of the one lifecycle every modem of csrc/ has (spandsp's
 * *_init/_restart/_free): built with AddressSanitizer (and its leak check)
 * and UBSan by test_modem_lifecycle_c.py.  For V.17, V.29, V.27ter, V.21 and
 * the tones, transmitter and receiver:
 *   - init into caller memory (X_state_size() bytes of garbage first) and
 *     init with NULL (allocated) behave alike: the same samples, the same bits;
 *   - a restart returns the state to what init left: the same samples and
 *     bits again, and at another rate the same as a fresh init at that rate;
 *   - a bad rate: init gives NULL, restart -1 and the state still works;
 *   - free releases what init allocated and never the caller's memory
 *     (ASan: no leak, no double free, no free of a non-heap block).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tone.h"
#include "v17rx.h"
#include "v17tx.h"
#include "v21rx.h"
#include "v21tx.h"
#include "v27ter_rx.h"
#include "v27ter_tx.h"
#include "v29rx.h"
#include "v29tx.h"

#include "ctest.h"

#define MAX_SAMPLES 40000
#define NBITS 4800

static uint8_t data[NBITS];

/* Caller memory that init must not expect zeroed. */
static void *garbage(size_t n)
{
    void *p = malloc(n);
    memset(p, 0xA5, n);
    return p;
}

typedef struct {
    int16_t amp[MAX_SAMPLES];
    int n;
} signal_t;

static int same_signal(const signal_t *a, const signal_t *b)
{
    return a->n == b->n && memcmp(a->amp, b->amp, sizeof(int16_t) * (size_t) a->n) == 0;
}

/* The data bits came through: the first NBITS of what the receiver gave. */
static int got_data(const uint8_t *bits, int n)
{
    return n >= NBITS && memcmp(bits, data, NBITS) == 0;
}

/* ---- V.17 ---- */

static void v17_send(v17_tx_state_t *s, signal_t *out)
{
    out->n = v17_tx(s, data, NBITS, out->amp, MAX_SAMPLES);
    out->n += v17_tx_finish(s, out->amp + out->n, MAX_SAMPLES - out->n);
}

static int v17_hear(v17_rx_state_t *s, const signal_t *in, uint8_t *bits)
{
    return v17_rx(s, in->amp, in->n, bits);
}

static void test_v17(void)
{
    static signal_t a, b, c, d, e;
    static uint8_t bits1[V17_RX_MAX_BITS(MAX_SAMPLES)], bits2[V17_RX_MAX_BITS(MAX_SAMPLES)];

    CHECK(v17_tx_init(NULL, 4800, 0, 0, -13.0f) == NULL, "V.17 tx init accepted 4800 bit/s");
    CHECK(v17_rx_init(NULL, 4800) == NULL, "V.17 rx init accepted 4800 bit/s");

    v17_tx_state_t *mine = garbage(v17_tx_state_size());
    CHECK(v17_tx_init(mine, 14400, 0, 0, -13.0f) == mine, "V.17 tx init into caller memory");
    v17_tx_state_t *heap = v17_tx_init(NULL, 14400, 0, 0, -13.0f);
    CHECK(heap != NULL, "V.17 tx init allocating");
    v17_send(mine, &a);
    v17_send(heap, &b);
    CHECK(a.n > 0 && same_signal(&a, &b), "V.17 tx: caller memory and heap differ (%d, %d)", a.n, b.n);
    CHECK(v17_tx_restart(mine, 14400, 0, 0, -13.0f) == 0, "V.17 tx restart");
    v17_send(mine, &c);
    CHECK(same_signal(&a, &c), "V.17 tx: a restart is not a fresh init");
    CHECK(v17_tx_restart(mine, 4800, 0, 0, -13.0f) < 0, "V.17 tx restart accepted 4800 bit/s");
    /* another rate, short training: as a fresh init of it */
    CHECK(v17_tx_restart(heap, 9600, 1, 0, -13.0f) == 0, "V.17 tx restart to 9600");
    v17_send(heap, &d);
    v17_tx_state_t *fresh = v17_tx_init(NULL, 9600, 1, 0, -13.0f);
    v17_send(fresh, &e);
    CHECK(same_signal(&d, &e), "V.17 tx: restart at 9600 short is not a fresh init");
    v17_tx_free(fresh);

    v17_rx_state_t *rmine = garbage(v17_rx_state_size());
    CHECK(v17_rx_init(rmine, 14400) == rmine, "V.17 rx init into caller memory");
    v17_rx_state_t *rheap = v17_rx_init(NULL, 14400);
    CHECK(rheap != NULL, "V.17 rx init allocating");
    int n1 = v17_hear(rmine, &a, bits1);
    int n2 = v17_hear(rheap, &a, bits2);
    CHECK(got_data(bits1, n1), "V.17 rx (caller memory): %d bits, not the data", n1);
    CHECK(n1 == n2 && memcmp(bits1, bits2, (size_t) n1) == 0, "V.17 rx: caller memory and heap differ");
    /* a new call at the same rate, in mid-signal: everything as init left it */
    v17_rx(rmine, a.amp, a.n / 2, bits2);
    CHECK(v17_rx_restart(rmine, 14400, 0) == 0, "V.17 rx restart");
    n2 = v17_hear(rmine, &a, bits2);
    CHECK(n1 == n2 && memcmp(bits1, bits2, (size_t) n1) == 0, "V.17 rx: a restart is not a fresh init");
    /* later pages of the call: 9600 with the short training, the channel kept */
    CHECK(v17_rx_restart(rmine, 9600, 1) == 0, "V.17 rx restart to 9600 keeping the channel");
    n2 = v17_hear(rmine, &d, bits2);
    CHECK(got_data(bits2, n2), "V.17 rx: short training at 9600 after a restart: %d bits, not the data", n2);
    CHECK(v17_rx_restart(rmine, 4800, 0) < 0, "V.17 rx restart accepted 4800 bit/s");
    CHECK(v17_rx_restart(rmine, 14400, 0) == 0, "V.17 rx restart after a refused one");
    n2 = v17_hear(rmine, &a, bits2);
    CHECK(got_data(bits2, n2), "V.17 rx: no data after a refused restart");

    CHECK(v17_tx_free(mine) == 0 && v17_tx_free(heap) == 0, "V.17 tx free");
    CHECK(v17_rx_free(rmine) == 0 && v17_rx_free(rheap) == 0, "V.17 rx free");
    free(mine);
    free(rmine);
}

/* ---- V.29 and V.27ter: the same shape, through one pair of macros ---- */

#define QAM_SEND(mod, s, out)                                                     \
    do {                                                                          \
        mod##_tx_put_bits(s, data, NBITS);                                        \
        mod##_tx_finish(s);                                                       \
        (out)->n = mod##_tx(s, (out)->amp, MAX_SAMPLES);                          \
    } while (0)

#define QAM_TEST(mod, NAME, rate, other, ...)                                                 \
    do {                                                                                      \
        static signal_t a, b, c, d, e;                                                        \
        static uint8_t bits1[MAX_SAMPLES], bits2[MAX_SAMPLES];                                \
        CHECK(mod##_tx_init(NULL, 1234, ##__VA_ARGS__) == NULL, NAME " tx init: bad rate");  \
        CHECK(mod##_rx_init(NULL, 1234) == NULL, NAME " rx init: bad rate");                  \
        mod##_tx_state_t *mine = garbage(mod##_tx_state_size());                              \
        CHECK(mod##_tx_init(mine, rate, ##__VA_ARGS__) == mine, NAME " tx init into caller memory"); \
        mod##_tx_state_t *heap = mod##_tx_init(NULL, rate, ##__VA_ARGS__);                    \
        QAM_SEND(mod, mine, &a);                                                              \
        QAM_SEND(mod, heap, &b);                                                              \
        CHECK(a.n > 0 && same_signal(&a, &b), NAME " tx: caller memory and heap differ");     \
        CHECK(mod##_tx_restart(mine, rate, ##__VA_ARGS__) == 0, NAME " tx restart");          \
        QAM_SEND(mod, mine, &c);                                                              \
        CHECK(same_signal(&a, &c), NAME " tx: a restart is not a fresh init");                \
        CHECK(mod##_tx_restart(heap, other, ##__VA_ARGS__) == 0, NAME " tx restart at another rate"); \
        QAM_SEND(mod, heap, &d);                                                              \
        mod##_tx_state_t *fresh = mod##_tx_init(NULL, other, ##__VA_ARGS__);                  \
        QAM_SEND(mod, fresh, &e);                                                             \
        CHECK(same_signal(&d, &e), NAME " tx: restart at another rate is not a fresh init");  \
        CHECK(mod##_tx_restart(heap, 1234, ##__VA_ARGS__) < 0, NAME " tx restart: bad rate"); \
        mod##_rx_state_t *rmine = garbage(mod##_rx_state_size());                             \
        CHECK(mod##_rx_init(rmine, rate) == rmine, NAME " rx init into caller memory");       \
        mod##_rx_state_t *rheap = mod##_rx_init(NULL, rate);                                  \
        int n1 = mod##_rx(rmine, a.amp, a.n, bits1);                                          \
        int n2 = mod##_rx(rheap, a.amp, a.n, bits2);                                          \
        CHECK(got_data(bits1, n1), NAME " rx (caller memory): %d bits, not the data", n1);    \
        CHECK(n1 == n2 && !memcmp(bits1, bits2, (size_t) n1), NAME " rx: caller memory and heap differ"); \
        mod##_rx(rmine, a.amp, a.n / 2, bits2);      /* a restart in mid-signal */           \
        CHECK(mod##_rx_restart(rmine, rate) == 0, NAME " rx restart");                        \
        n2 = mod##_rx(rmine, a.amp, a.n, bits2);                                              \
        CHECK(n1 == n2 && !memcmp(bits1, bits2, (size_t) n1), NAME " rx: a restart is not a fresh init"); \
        CHECK(mod##_rx_restart(rmine, other) == 0, NAME " rx restart at another rate");       \
        n1 = mod##_rx(rmine, d.amp, d.n, bits1);                                              \
        mod##_rx_state_t *rfresh = mod##_rx_init(NULL, other);                                \
        n2 = mod##_rx(rfresh, d.amp, d.n, bits2);                                             \
        CHECK(got_data(bits1, n1), NAME " rx after a restart at another rate: not the data"); \
        CHECK(n1 == n2 && !memcmp(bits1, bits2, (size_t) n1), NAME " rx: restart at another rate is not a fresh init"); \
        CHECK(mod##_rx_restart(rmine, 1234) < 0, NAME " rx restart: bad rate");               \
        CHECK(mod##_tx_free(mine) == 0 && mod##_tx_free(heap) == 0 && mod##_tx_free(fresh) == 0, NAME " tx free"); \
        CHECK(mod##_rx_free(rmine) == 0 && mod##_rx_free(rheap) == 0 && mod##_rx_free(rfresh) == 0, NAME " rx free"); \
        CHECK(mod##_tx_free(NULL) == 0 && mod##_rx_free(NULL) == 0, NAME " free(NULL)");      \
        free(mine);                                                                           \
        free(rmine);                                                                          \
    } while (0)

/* ---- V.21 and the tones: no buffers of their own, the same lifecycle ---- */

static void test_v21(void)
{
    static signal_t a, b, c;
    static uint8_t bits1[MAX_SAMPLES], bits2[MAX_SAMPLES];
    v21tx_state_t *mine = garbage(v21tx_state_size());
    CHECK(v21tx_init(mine, 1650.0, 1850.0, 8000.0) == mine, "V.21 tx init into caller memory");
    v21tx_state_t *heap = v21tx_init(NULL, 1650.0, 1850.0, 8000.0);
    a.n = v21tx_tx(mine, data, 300, a.amp);
    b.n = v21tx_tx(heap, data, 300, b.amp);
    CHECK(a.n > 0 && same_signal(&a, &b), "V.21 tx: caller memory and heap differ");
    v21tx_restart(mine);
    c.n = v21tx_tx(mine, data, 300, c.amp);
    CHECK(same_signal(&a, &c), "V.21 tx: a restart is not a fresh init");

    v21rx_state_t *rmine = garbage(v21rx_state_size());
    CHECK(v21rx_init(rmine, 1650.0, 1850.0, 10.0, 5.0) == rmine, "V.21 rx init into caller memory");
    v21rx_state_t *rheap = v21rx_init(NULL, 1650.0, 1850.0, 10.0, 5.0);
    int n1 = v21rx_rx(rmine, a.amp, a.n, bits1);
    int n2 = v21rx_rx(rheap, a.amp, a.n, bits2);
    CHECK(n1 > 200 && n1 == n2 && !memcmp(bits1, bits2, (size_t) n1), "V.21 rx: caller memory and heap differ");
    v21rx_rx(rmine, a.amp, a.n / 2, bits2);     /* a restart in mid-signal */
    v21rx_restart(rmine);
    n2 = v21rx_rx(rmine, a.amp, a.n, bits2);
    CHECK(n1 == n2 && !memcmp(bits1, bits2, (size_t) n1), "V.21 rx: a restart is not a fresh init");
    CHECK(v21tx_free(mine) == 0 && v21tx_free(heap) == 0 && v21rx_free(rmine) == 0 && v21rx_free(rheap) == 0,
          "V.21 free");
    free(mine);
    free(rmine);
}

static void test_tones(void)
{
    static signal_t a, b, c;
    static tone_event_t ev1[TONE_DET_MAX_EVENTS(MAX_SAMPLES)], ev2[TONE_DET_MAX_EVENTS(MAX_SAMPLES)];
    const int qualify[TONE_KINDS] = {500, 2600, 300};
    tone_gen_state_t *mine = garbage(tone_gen_state_size());
    CHECK(tone_gen_init(mine, 2100.0, 8000.0, 800, 26400, 0, 0) == mine, "tone gen init into caller memory");
    tone_gen_state_t *heap = tone_gen_init(NULL, 2100.0, 8000.0, 800, 26400, 0, 0);
    a.n = tone_gen(mine, a.amp, 32000);
    b.n = tone_gen(heap, b.amp, 32000);
    CHECK(a.n == 32000 && same_signal(&a, &b), "tone gen: caller memory and heap differ");
    tone_gen_restart(mine);
    c.n = tone_gen(mine, c.amp, 32000);
    CHECK(same_signal(&a, &c), "tone gen: a restart is not a fresh init");

    tone_det_state_t *dmine = garbage(tone_det_state_size());
    CHECK(tone_det_init(dmine, 100.0, qualify) == dmine, "tone det init into caller memory");
    tone_det_state_t *dheap = tone_det_init(NULL, 100.0, qualify);
    int n1 = tone_det_rx(dmine, a.amp, a.n, ev1);
    int n2 = tone_det_rx(dheap, a.amp, a.n, ev2);
    CHECK(n1 >= 1 && ev1[0].kind == TONE_CED, "tone det: CED not found (%d events)", n1);
    CHECK(n1 == n2 && !memcmp(ev1, ev2, sizeof(ev1[0]) * (size_t) n1), "tone det: caller memory and heap differ");
    tone_det_rx(dmine, a.amp, a.n / 2, ev2);     /* a restart in mid-tone */
    tone_det_restart(dmine);
    n2 = tone_det_rx(dmine, a.amp, a.n, ev2);
    CHECK(n1 == n2 && !memcmp(ev1, ev2, sizeof(ev1[0]) * (size_t) n1), "tone det: a restart is not a fresh init");
    CHECK(tone_gen_free(mine) == 0 && tone_gen_free(heap) == 0 && tone_det_free(dmine) == 0
          && tone_det_free(dheap) == 0, "tone free");
    free(mine);
    free(dmine);
}

int main(void)
{
    uint32_t r = 1;
    for (int i = 0; i < NBITS; i++) {
        r = r * 1664525u + 1013904223u;
        data[i] = (uint8_t) (r >> 31);
    }
    test_v17();
    QAM_TEST(v29, "V.29", 9600, 4800, -13.0f, 0);
    QAM_TEST(v27ter, "V.27ter", 4800, 2400, -13.0f, 0, 0);
    test_v21();
    test_tones();
    return ctest_report();
}
