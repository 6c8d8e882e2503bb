/* Test harness around libspandsp 0.0.6: the reference modems, HDLC, tones and
 * fax terminal that our interop tests and benchmarks measure faxengine
 * against.
 *
 * Compiled at test time (tests/spandsp/__init__.py builds it into
 * build/spandsp_harness/, never committed) and driven through ctypes.  Every
 * entry point takes whole blocks: spandsp's modems pull and push single bits
 * through callbacks, and those callbacks are here, in C, reading and writing
 * buffers, so no Python code runs per bit or per sample.
 *
 * Sections:
 *   1. bit queues shared by the sections below;
 *   2. modem transmitters (V.17, V.29, V.27ter, V.21 channel 2): sp_tx_*;
 *   3. modem receivers, with a log of the status changes they report: sp_rx_*;
 *   4. HDLC framing over bit arrays: sp_hdlc_*;
 *   5. modem connect tones (CNG, CED/ANS): sp_tone_*;
 *   6. spandsp's power meter, to check that our dBm0 is spandsp's;
 *   7. the T.30 fax terminal (fax_init / fax_tx / fax_rx): sp_fax_*;
 *   8. spandsp's G.711 coders as tables, to check faxengine.line's.
 * Each keeps the same shape: an opaque handle, block workers that return
 * counts, logs read back by the caller.
 *
 * How spandsp 0.0.6 behaves, as far as this harness relies on it:
 *   - a transmitter sends its training first and only then asks get_bit for
 *     data; when get_bit answers SIG_STATUS_END_OF_DATA the transmitter
 *     starts its turn-off sequence and, once it is over, returns fewer
 *     samples than asked for (the FSK transmitter stops at once) -- but only
 *     when a modem status handler is set: without one V.29 and V.27ter send
 *     ones for ever and V.17 silence;
 *   - a receiver reports status changes (carrier up/down, training succeeded
 *     or failed) to its status handler, and hands put_bit only the data bits
 *     it recovers after training, already descrambled;
 *   - the receivers' carrier-detect cutoffs differ: V.29's default makes it
 *     miss signals below about -28 dBm0 (measured: trains at -26, not at
 *     -29), while V.27ter and V.17 train down to -41 dBm0; SP_CUTOFF sets
 *     another (V.29 then trains down to -41 dBm0 too with -45.5).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <time.h>       /* spandsp/timezone.h needs time_t */

#include <spandsp/telephony.h>
#include <spandsp/logging.h>
#include <spandsp/complex.h>
#include <spandsp/async.h>
#include <spandsp/power_meter.h>
#include <spandsp/fsk.h>
#include <spandsp/hdlc.h>
#include <spandsp/v29rx.h>
#include <spandsp/v29tx.h>
#include <spandsp/v27ter_rx.h>
#include <spandsp/v27ter_tx.h>
#include <spandsp/v17rx.h>
#include <spandsp/v17tx.h>
#include <spandsp/super_tone_rx.h>
#include <spandsp/modem_connect_tones.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>
/* The T.30 headers need no tiffio.h, but t4_tx.h needs timezone.h first. */
#include <spandsp/timezone.h>
#include <spandsp/t4_rx.h>
#include <spandsp/t4_tx.h>
#include <spandsp/t30.h>
#include <spandsp/t30_api.h>
#include <spandsp/t30_logging.h>
#include <spandsp/fax.h>
#include "spandsp_common.h"

/* Modem kinds, named after their recommendation. */
enum { SP_V21 = 21, SP_V27TER = 27, SP_V29 = 29, SP_V17 = 17 };

/* Option flags. */
#define SP_SHORT_TRAIN 0x01  /* V.17: short training (TX and RX) */
#define SP_TEP         0x02  /* TX: send the talker echo protection tone first */
#define SP_POWER       0x04  /* TX: set the power given, else spandsp's default */
#define SP_CUTOFF      0x08  /* RX: set the carrier-detect cutoff given, else spandsp's default */

#define SP_ERR_KIND   -1     /* unknown modem kind */
#define SP_ERR_RATE   -2     /* rate not valid for the kind */
#define SP_ERR_MEMORY -3

/* ---- 1. bit queues ---------------------------------------------------- */

typedef struct {
    uint8_t *bits;
    int len;     /* bits held */
    int head;    /* next bit to read */
    int cap;
} bitq_t;

static int bitq_put(bitq_t *q, const uint8_t *bits, int n)
{
    if (q->head > 0 && q->head == q->len) {
        q->head = 0;
        q->len = 0;
    }
    if (q->len + n > q->cap) {
        int cap = q->cap ? q->cap : 4096;
        while (cap < q->len + n)
            cap *= 2;
        uint8_t *b = realloc(q->bits, (size_t) cap);
        if (b == NULL)
            return SP_ERR_MEMORY;
        q->bits = b;
        q->cap = cap;
    }
    for (int i = 0; i < n; i++)
        q->bits[q->len + i] = bits[i] & 1;
    q->len += n;
    return n;
}

static int bitq_take(bitq_t *q, uint8_t *out, int max)
{
    int n = q->len - q->head;
    if (n > max)
        n = max;
    memcpy(out, q->bits + q->head, (size_t) n);
    q->head += n;
    if (q->head == q->len)
        q->head = q->len = 0;
    return n;
}

static void bitq_free(bitq_t *q)
{
    free(q->bits);
    memset(q, 0, sizeof(*q));
}

static int rate_ok(int kind, int rate)
{
    switch (kind) {
    case SP_V21:
        return rate == 300;
    case SP_V27TER:
        return rate == 2400 || rate == 4800;
    case SP_V29:
        return rate == 4800 || rate == 7200 || rate == 9600;
    case SP_V17:
        return rate == 7200 || rate == 9600 || rate == 12000 || rate == 14400;
    }
    return 0;
}

/* ---- 2. transmitters -------------------------------------------------- */

typedef struct {
    int kind;
    int rate;
    union {
        v17_tx_state_t *v17;
        v29_tx_state_t *v29;
        v27ter_tx_state_t *v27ter;
        fsk_tx_state_t *fsk;
    } m;
    bitq_t q;
    int ended;       /* no more bits will come: END_OF_DATA once q is empty */
    int done;        /* the transmitter has finished its turn-off */
    int underruns;   /* get_bit found q empty before the end: sent a 1 */
    int64_t samples; /* samples produced so far */
    int64_t end_of_data_sample;  /* samples made before the block END_OF_DATA came in, -1 */
} sp_tx_t;

/* The transmitters of 0.0.6 only run their turn-off and stop (return short)
 * when a status handler is set: without one they send ones for ever. */
static void tx_status(void *user_data, int status)
{
    sp_tx_t *t = user_data;
    if (status == SIG_STATUS_END_OF_DATA && t->end_of_data_sample < 0)
        t->end_of_data_sample = t->samples;
}

static int tx_get_bit(void *user_data)
{
    sp_tx_t *t = user_data;
    if (t->q.head < t->q.len)
        return t->q.bits[t->q.head++];
    if (t->ended)
        return SIG_STATUS_END_OF_DATA;
    t->underruns++;
    return 1;
}

sp_tx_t *sp_tx_new(int kind, int rate, int flags, float power_dbm0, int *error)
{
    *error = 0;
    if (kind != SP_V21 && kind != SP_V27TER && kind != SP_V29 && kind != SP_V17) {
        *error = SP_ERR_KIND;
        return NULL;
    }
    if (!rate_ok(kind, rate)) {
        *error = SP_ERR_RATE;
        return NULL;
    }
    sp_tx_t *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        *error = SP_ERR_MEMORY;
        return NULL;
    }
    t->kind = kind;
    t->rate = rate;
    t->end_of_data_sample = -1;
    int tep = (flags & SP_TEP) != 0;
    void *m = NULL;
    switch (kind) {
    case SP_V17:
        m = t->m.v17 = v17_tx_init(NULL, rate, tep, tx_get_bit, t);
        if (m != NULL && (flags & SP_SHORT_TRAIN))
            v17_tx_restart(t->m.v17, rate, tep, TRUE);
        if (m != NULL && (flags & SP_POWER))
            v17_tx_power(t->m.v17, power_dbm0);
        break;
    case SP_V29:
        m = t->m.v29 = v29_tx_init(NULL, rate, tep, tx_get_bit, t);
        if (m != NULL && (flags & SP_POWER))
            v29_tx_power(t->m.v29, power_dbm0);
        break;
    case SP_V27TER:
        m = t->m.v27ter = v27ter_tx_init(NULL, rate, tep, tx_get_bit, t);
        if (m != NULL && (flags & SP_POWER))
            v27ter_tx_power(t->m.v27ter, power_dbm0);
        break;
    case SP_V21:
        m = t->m.fsk = fsk_tx_init(NULL, &preset_fsk_specs[FSK_V21CH2], tx_get_bit, t);
        if (m != NULL && (flags & SP_POWER))
            fsk_tx_power(t->m.fsk, power_dbm0);
        break;
    }
    if (m == NULL) {
        free(t);
        *error = SP_ERR_MEMORY;
        return NULL;
    }
    switch (kind) {
    case SP_V17:
        v17_tx_set_modem_status_handler(t->m.v17, tx_status, t);
        break;
    case SP_V29:
        v29_tx_set_modem_status_handler(t->m.v29, tx_status, t);
        break;
    case SP_V27TER:
        v27ter_tx_set_modem_status_handler(t->m.v27ter, tx_status, t);
        break;
    case SP_V21:
        fsk_tx_set_modem_status_handler(t->m.fsk, tx_status, t);
        break;
    }
    return t;
}

void sp_tx_free(sp_tx_t *t)
{
    if (t == NULL)
        return;
    switch (t->kind) {
    case SP_V17:
        v17_tx_free(t->m.v17);
        break;
    case SP_V29:
        v29_tx_free(t->m.v29);
        break;
    case SP_V27TER:
        v27ter_tx_free(t->m.v27ter);
        break;
    case SP_V21:
        fsk_tx_free(t->m.fsk);
        break;
    }
    bitq_free(&t->q);
    free(t);
}

/* Queue data bits (0/1); end = 1 says no more will follow. */
int sp_tx_put_bits(sp_tx_t *t, const uint8_t *bits, int n, int end)
{
    int r = bitq_put(&t->q, bits, n);
    if (end)
        t->ended = 1;
    return r;
}

static int tx_block(sp_tx_t *t, int16_t *out, int n)
{
    switch (t->kind) {
    case SP_V17:
        return v17_tx(t->m.v17, out, n);
    case SP_V29:
        return v29_tx(t->m.v29, out, n);
    case SP_V27TER:
        return v27ter_tx(t->m.v27ter, out, n);
    default:
        return fsk_tx(t->m.fsk, out, n);
    }
}

/* Generate up to max samples.  Until sp_tx_put_bits(end = 1) the transmitter
 * is never let run out of bits: generation stops while more than one
 * symbol's worth of bits is still queued, so the caller can add more and the
 * stream continues seamlessly.  After the end it runs to the end of the
 * turn-off and then returns fewer than max (0 once done).
 *
 * spandsp's transmitters only look at the end of their turn-off at the start
 * of a call, so the last few bits and the turn-off are made one sample per
 * call: the output then ends exactly where spandsp's turn-off does, whatever
 * the caller's block sizes. */
int sp_tx_samples(sp_tx_t *t, int16_t *out, int max)
{
    const int reserve = 8;   /* more bits than any of these modems takes per symbol */
    int made = 0;
    while (made < max && !t->done) {
        /* at most 160 samples a call: the end of data is logged to within 20 ms */
        int want = (max - made < 160) ? max - made : 160;
        int queued = t->q.len - t->q.head;
        if (queued >= reserve) {
            /* samples that surely consume no more than queued - reserve bits,
             * allowing a symbol of look-ahead (at most 7 samples here) */
            int safe = (int) ((int64_t) (queued - reserve) * 8000 / t->rate) - 8;
            if (safe < 1)
                safe = 1;
            if (want > safe)
                want = safe;
        } else if (!t->ended) {
            break;
        } else {
            want = 1;
        }
        int got = tx_block(t, out + made, want);
        made += got;
        t->samples += got;
        if (got < want)
            t->done = 1;    /* the turn-off is over */
    }
    return made;
}

int sp_tx_done(const sp_tx_t *t)
{
    return t->done;
}

int sp_tx_underruns(const sp_tx_t *t)
{
    return t->underruns;
}

/* Samples made before the 160-sample block (or less) in which the
 * transmitter asked for a bit past the end, or -1. */
int64_t sp_tx_end_of_data_sample(const sp_tx_t *t)
{
    return t->end_of_data_sample;
}

/* One shot: the training, these bits, the turn-off.  Returns the number of
 * samples written (at most max_samples), or a negative SP_ERR_*. */
int sp_modem_tx(int kind, int rate, int flags, float power_dbm0,
                const uint8_t *bits, int nbits, int16_t *out, int max_samples)
{
    int err;
    sp_tx_t *t = sp_tx_new(kind, rate, flags, power_dbm0, &err);
    if (t == NULL)
        return err;
    if (sp_tx_put_bits(t, bits, nbits, 1) < 0) {
        sp_tx_free(t);
        return SP_ERR_MEMORY;
    }
    int n = sp_tx_samples(t, out, max_samples);
    sp_tx_free(t);
    return n;
}

/* ---- 3. receivers ----------------------------------------------------- */

#define SP_RX_EVENTS 256

typedef struct {
    int kind;
    int rate;
    union {
        v17_rx_state_t *v17;
        v29_rx_state_t *v29;
        v27ter_rx_state_t *v27ter;
        fsk_rx_state_t *fsk;
    } m;
    bitq_t q;                      /* recovered data bits not yet taken */
    int64_t samples;               /* samples fed so far */
    int64_t bits_out;              /* data bits put out so far */
    int trained;                   /* TRAINING_SUCCEEDED seen since (re)start */
    int training_failed;           /* TRAINING_FAILED seen (count) */
    int carrier;                   /* carrier up now */
    int64_t first_bit_sample;      /* samples fed when the first data bit came, -1 */
    int nevents;                   /* status changes logged (may exceed SP_RX_EVENTS) */
    int event_status[SP_RX_EVENTS];
    int64_t event_sample[SP_RX_EVENTS]; /* samples fed before the block it happened in */
} sp_rx_t;

/* What the caller reads back about a receiver. */
typedef struct {
    int trained;
    int training_failed;
    int carrier;
    int nevents;
    int64_t samples;
    int64_t bits_out;
    int64_t first_bit_sample;
    float signal_power_dbm0;
    float carrier_hz;
    float symbol_timing;
} sp_rx_report_t;

static void rx_status(void *user_data, int status)
{
    sp_rx_t *r = user_data;
    if (r->nevents < SP_RX_EVENTS) {
        r->event_status[r->nevents] = status;
        r->event_sample[r->nevents] = r->samples;
    }
    r->nevents++;
    switch (status) {
    case SIG_STATUS_TRAINING_SUCCEEDED:
        r->trained = 1;
        break;
    case SIG_STATUS_TRAINING_FAILED:
        r->training_failed++;
        break;
    case SIG_STATUS_CARRIER_UP:
        r->carrier = 1;
        break;
    case SIG_STATUS_CARRIER_DOWN:
        r->carrier = 0;
        break;
    }
}

static void rx_put_bit(void *user_data, int bit)
{
    sp_rx_t *r = user_data;
    if (bit < 0) {
        /* spandsp reports status through put_bit when no handler is set */
        rx_status(r, bit);
        return;
    }
    uint8_t b = (uint8_t) (bit & 1);
    if (r->first_bit_sample < 0)
        r->first_bit_sample = r->samples;
    r->bits_out++;
    bitq_put(&r->q, &b, 1);
}

sp_rx_t *sp_rx_new(int kind, int rate, int flags, float cutoff_dbm0, int *error)
{
    *error = 0;
    if (kind != SP_V21 && kind != SP_V27TER && kind != SP_V29 && kind != SP_V17) {
        *error = SP_ERR_KIND;
        return NULL;
    }
    if (!rate_ok(kind, rate)) {
        *error = SP_ERR_RATE;
        return NULL;
    }
    sp_rx_t *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        *error = SP_ERR_MEMORY;
        return NULL;
    }
    r->kind = kind;
    r->rate = rate;
    r->first_bit_sample = -1;
    void *m = NULL;
    switch (kind) {
    case SP_V17:
        m = r->m.v17 = v17_rx_init(NULL, rate, rx_put_bit, r);
        if (m != NULL) {
            v17_rx_set_modem_status_handler(r->m.v17, rx_status, r);
            if (flags & SP_SHORT_TRAIN)
                v17_rx_restart(r->m.v17, rate, TRUE);
            if (flags & SP_CUTOFF)
                v17_rx_signal_cutoff(r->m.v17, cutoff_dbm0);
        }
        break;
    case SP_V29:
        m = r->m.v29 = v29_rx_init(NULL, rate, rx_put_bit, r);
        if (m != NULL) {
            v29_rx_set_modem_status_handler(r->m.v29, rx_status, r);
            if (flags & SP_CUTOFF)
                v29_rx_signal_cutoff(r->m.v29, cutoff_dbm0);
        }
        break;
    case SP_V27TER:
        m = r->m.v27ter = v27ter_rx_init(NULL, rate, rx_put_bit, r);
        if (m != NULL) {
            v27ter_rx_set_modem_status_handler(r->m.v27ter, rx_status, r);
            if (flags & SP_CUTOFF)
                v27ter_rx_signal_cutoff(r->m.v27ter, cutoff_dbm0);
        }
        break;
    case SP_V21:
        m = r->m.fsk = fsk_rx_init(NULL, &preset_fsk_specs[FSK_V21CH2], FSK_FRAME_MODE_SYNC,
                                   rx_put_bit, r);
        if (m != NULL) {
            fsk_rx_set_modem_status_handler(r->m.fsk, rx_status, r);
            if (flags & SP_CUTOFF)
                fsk_rx_signal_cutoff(r->m.fsk, cutoff_dbm0);
        }
        break;
    }
    if (m == NULL) {
        free(r);
        *error = SP_ERR_MEMORY;
        return NULL;
    }
    return r;
}

void sp_rx_free(sp_rx_t *r)
{
    if (r == NULL)
        return;
    switch (r->kind) {
    case SP_V17:
        v17_rx_free(r->m.v17);
        break;
    case SP_V29:
        v29_rx_free(r->m.v29);
        break;
    case SP_V27TER:
        v27ter_rx_free(r->m.v27ter);
        break;
    case SP_V21:
        fsk_rx_free(r->m.fsk);
        break;
    }
    bitq_free(&r->q);
    free(r);
}

/* Restart a receiver for a new signal, as T.30 does between TCF and the
 * page: rate may change (within the kind); short_train (V.17) keeps the
 * equaliser of the last long training, which a short training relies on.
 * Recovered bits not yet taken are dropped.  Returns 0, or SP_ERR_RATE. */
int sp_rx_restart(sp_rx_t *r, int rate, int short_train)
{
    if (!rate_ok(r->kind, rate))
        return SP_ERR_RATE;
    r->rate = rate;
    r->q.head = r->q.len = 0;
    r->trained = 0;
    switch (r->kind) {
    case SP_V17:
        v17_rx_restart(r->m.v17, rate, short_train);
        break;
    case SP_V29:
        v29_rx_restart(r->m.v29, rate, FALSE);
        break;
    case SP_V27TER:
        v27ter_rx_restart(r->m.v27ter, rate, FALSE);
        break;
    case SP_V21:
        fsk_rx_restart(r->m.fsk, &preset_fsk_specs[FSK_V21CH2], FSK_FRAME_MODE_SYNC);
        break;
    }
    return 0;
}

/* Feed n samples; returns the number of data bits now waiting to be taken. */
int sp_rx_samples(sp_rx_t *r, const int16_t *in, int n)
{
    /* blocks of at most 160 samples: status events are logged to within 20 ms */
    for (int at = 0; at < n; at += 160) {
        int len = (n - at < 160) ? n - at : 160;
        switch (r->kind) {
        case SP_V17:
            v17_rx(r->m.v17, in + at, len);
            break;
        case SP_V29:
            v29_rx(r->m.v29, in + at, len);
            break;
        case SP_V27TER:
            v27ter_rx(r->m.v27ter, in + at, len);
            break;
        case SP_V21:
            fsk_rx(r->m.fsk, in + at, len);
            break;
        }
        r->samples += len;
    }
    return r->q.len - r->q.head;
}

/* Take up to max recovered data bits; returns how many. */
int sp_rx_take_bits(sp_rx_t *r, uint8_t *out, int max)
{
    return bitq_take(&r->q, out, max);
}

void sp_rx_report(sp_rx_t *r, sp_rx_report_t *rep)
{
    memset(rep, 0, sizeof(*rep));
    rep->trained = r->trained;
    rep->training_failed = r->training_failed;
    rep->carrier = r->carrier;
    rep->nevents = r->nevents;
    rep->samples = r->samples;
    rep->bits_out = r->bits_out;
    rep->first_bit_sample = r->first_bit_sample;
    switch (r->kind) {
    case SP_V17:
        rep->signal_power_dbm0 = v17_rx_signal_power(r->m.v17);
        rep->carrier_hz = v17_rx_carrier_frequency(r->m.v17);
        rep->symbol_timing = v17_rx_symbol_timing_correction(r->m.v17);
        break;
    case SP_V29:
        rep->signal_power_dbm0 = v29_rx_signal_power(r->m.v29);
        rep->carrier_hz = v29_rx_carrier_frequency(r->m.v29);
        rep->symbol_timing = v29_rx_symbol_timing_correction(r->m.v29);
        break;
    case SP_V27TER:
        rep->signal_power_dbm0 = v27ter_rx_signal_power(r->m.v27ter);
        rep->carrier_hz = v27ter_rx_carrier_frequency(r->m.v27ter);
        rep->symbol_timing = v27ter_rx_symbol_timing_correction(r->m.v27ter);
        break;
    case SP_V21:
        rep->signal_power_dbm0 = fsk_rx_signal_power(r->m.fsk);
        break;
    }
}

/* Copy the status log: up to max (status, sample) pairs; returns how many. */
int sp_rx_events(const sp_rx_t *r, int *status, int64_t *sample, int max)
{
    int n = r->nevents < SP_RX_EVENTS ? r->nevents : SP_RX_EVENTS;
    if (n > max)
        n = max;
    memcpy(status, r->event_status, (size_t) n * sizeof(int));
    memcpy(sample, r->event_sample, (size_t) n * sizeof(int64_t));
    return n;
}

/* One shot: demodulate n samples, write up to max_bits data bits; returns
 * the number of bits written or a negative SP_ERR_*; *trained tells whether
 * the receiver trained. */
int sp_modem_rx(int kind, int rate, int flags, float cutoff_dbm0, const int16_t *in, int n,
                uint8_t *bits, int max_bits, int *trained)
{
    int err;
    sp_rx_t *r = sp_rx_new(kind, rate, flags, cutoff_dbm0, &err);
    if (r == NULL)
        return err;
    sp_rx_samples(r, in, n);
    int got = sp_rx_take_bits(r, bits, max_bits);
    *trained = r->trained;
    sp_rx_free(r);
    return got;
}

/* ---- 4. HDLC ---------------------------------------------------------- */

typedef struct {
    int underflows;
} hdlc_tx_user_t;

static void hdlc_underflow(void *user_data)
{
    ((hdlc_tx_user_t *) user_data)->underflows++;
}

/* Frame nframes frames (data concatenated, lens[i] bytes each) as HDLC:
 * preamble_flags flags, each frame with its FCS (CRC-16, or CRC-32 if
 * crc32) and zero-bit insertion, one flag between frames, and
 * postamble_flags flags after the last (its closing flag included).
 * Writes the bits in transmission order; returns how many, or -1 when
 * max_bits is too small or a frame too long for spandsp. */
int sp_hdlc_tx_frames(const uint8_t *data, const int *lens, int nframes, int crc32,
                      int preamble_flags, int postamble_flags, uint8_t *bits, int max_bits)
{
    hdlc_tx_user_t user = {0};
    hdlc_tx_state_t *s = hdlc_tx_init(NULL, crc32, 1, FALSE, hdlc_underflow, &user);
    if (s == NULL)
        return SP_ERR_MEMORY;
    hdlc_tx_set_max_frame_len(s, 4096);
    int n = 0;
    if (preamble_flags > 0)
        hdlc_tx_flags(s, preamble_flags);
    int queued = 0;
    const uint8_t *p = data;
    /* Queue a frame whenever spandsp accepts one, pulling bits meanwhile. */
    while (queued < nframes) {
        if (hdlc_tx_frame(s, p, (size_t) lens[queued]) == 0) {
            p += lens[queued];
            queued++;
            continue;
        }
        if (n >= max_bits) {
            hdlc_tx_free(s);
            return -1;
        }
        bits[n++] = (uint8_t) hdlc_tx_get_bit(s);
    }
    /* Pull until the last frame is out (the underflow call comes when the
     * transmitter wants another frame and has none), then until the bits end
     * with postamble_flags whole flags, the closing flag of the last frame
     * counting as the first.  Zero-bit insertion keeps 01111110 out of frame
     * contents, so these can only be flags. */
    static const uint8_t flag[8] = {0, 1, 1, 1, 1, 1, 1, 0};
    if (postamble_flags < 1)
        postamble_flags = 1;
    int before = user.underflows;
    for (;;) {
        if (user.underflows != before && n >= 8 * postamble_flags) {
            int tail_ok = 1;
            for (int i = 0; i < 8 * postamble_flags && tail_ok; i++)
                tail_ok = bits[n - 8 * postamble_flags + i] == flag[i % 8];
            if (tail_ok)
                break;
        }
        if (n >= max_bits) {
            hdlc_tx_free(s);
            return -1;
        }
        bits[n++] = (uint8_t) hdlc_tx_get_bit(s);
    }
    hdlc_tx_free(s);
    return n;
}

typedef struct {
    uint8_t *data;   /* frame bytes, concatenated */
    int used;
    int max_data;
    int *lens;
    int *oks;
    int nframes;
    int max_frames;
    int lost;        /* frames that did not fit */
} hdlc_rx_user_t;

static void hdlc_frame(void *user_data, const uint8_t *pkt, int len, int ok)
{
    hdlc_rx_user_t *u = user_data;
    if (len < 0 || pkt == NULL)
        return;     /* a status report (framing ok, carrier down...), not a frame */
    if (u->nframes >= u->max_frames || u->used + len > u->max_data) {
        u->lost++;
        return;
    }
    memcpy(u->data + u->used, pkt, (size_t) len);
    u->used += len;
    u->lens[u->nframes] = len;
    u->oks[u->nframes] = ok;
    u->nframes++;
}

/* Deframe nbits bits with spandsp's HDLC receiver (bad frames reported
 * too).  Frame bytes go to data (FCS removed), lengths to lens, FCS good
 * flags to oks.  Returns the number of frames, or -1 if they did not fit. */
int sp_hdlc_rx_bits(const uint8_t *bits, int nbits, int crc32, uint8_t *data, int max_data,
                    int *lens, int *oks, int max_frames)
{
    hdlc_rx_user_t u = {data, 0, max_data, lens, oks, 0, max_frames, 0};
    hdlc_rx_state_t *s = hdlc_rx_init(NULL, crc32, TRUE, 1, hdlc_frame, &u);
    if (s == NULL)
        return SP_ERR_MEMORY;
    hdlc_rx_set_max_frame_len(s, 4096);
    for (int i = 0; i < nbits; i++)
        hdlc_rx_put_bit(s, bits[i] & 1);
    hdlc_rx_free(s);
    return u.lost ? -1 : u.nframes;
}

/* ---- 5. modem connect tones ------------------------------------------- */

/* Generate n samples of tone_type (MODEM_CONNECT_TONES_FAX_CNG = 1: 1100 Hz
 * 0.5 s on, 3 s off; MODEM_CONNECT_TONES_ANS = 2: CED, 2100 Hz); returns the
 * number of samples written. */
int sp_tone_tx(int tone_type, int16_t *out, int n)
{
    modem_connect_tones_tx_state_t *s = modem_connect_tones_tx_init(NULL, tone_type);
    if (s == NULL)
        return SP_ERR_MEMORY;
    int made = 0;
    while (made < n) {
        int len = (n - made < 160) ? n - made : 160;
        int got = modem_connect_tones_tx(s, out + made, len);
        made += got;
        if (got < len)
            break;
    }
    modem_connect_tones_tx_free(s);
    return made;
}

typedef struct {
    int *tone;
    int64_t *sample;
    int n;
    int max;
    int64_t fed;
} tone_rx_user_t;

static void tone_report(void *user_data, int code, int level, int delay)
{
    tone_rx_user_t *u = user_data;
    (void) level;
    (void) delay;
    if (u->n < u->max) {
        u->tone[u->n] = code;
        u->sample[u->n] = u->fed;
    }
    u->n++;
}

/* Listen for tone_type in n samples; writes each report (the tone code, or
 * MODEM_CONNECT_TONES_NONE when it stops) with the samples fed before the
 * 160-sample block it came in.  Returns the number of reports. */
int sp_tone_rx(int tone_type, const int16_t *in, int n, int *tone, int64_t *sample, int max)
{
    tone_rx_user_t u = {tone, sample, 0, max, 0};
    modem_connect_tones_rx_state_t *s = modem_connect_tones_rx_init(NULL, tone_type, tone_report, &u);
    if (s == NULL)
        return SP_ERR_MEMORY;
    for (int at = 0; at < n; at += 160) {
        int len = (n - at < 160) ? n - at : 160;
        modem_connect_tones_rx(s, in + at, len);
        u.fed += len;
    }
    modem_connect_tones_rx_free(s);
    return u.n < max ? u.n : max;
}

/* ---- 6. power meter --------------------------------------------------- */

/* The level in dBm0 spandsp's power meter reads after n samples (a
 * one-pole average with time constant 2**shift samples). */
float sp_power_meter_dbm0(const int16_t *in, int n, int shift)
{
    power_meter_t meter;
    power_meter_init(&meter, shift);
    for (int i = 0; i < n; i++)
        power_meter_update(&meter, in[i]);
    return power_meter_current_dbm0(&meter);
}

/* ---- 7. fax terminal -------------------------------------------------- */

#define SP_FAX_FRAMES 2048      /* T.30 frames logged, at the most */
#define SP_FAX_FRAME_MAX 300    /* bytes kept of each */

typedef struct {
    fax_state_t *fax;
    t30_state_t *t30;
    int done;                   /* phase E reached */
    int completion;             /* its T30_ERR_* code */
    int64_t samples_tx;         /* samples sent so far */
    int64_t samples_rx;         /* samples heard so far */
    int64_t done_sample;        /* samples sent when phase E came, -1 before */
    int nframes;                /* frames logged (may exceed SP_FAX_FRAMES) */
    int frame_dir[SP_FAX_FRAMES];        /* 1 received, 0 sent */
    int64_t frame_sample[SP_FAX_FRAMES]; /* samples sent (or heard) before the frame */
    int frame_len[SP_FAX_FRAMES];
    uint8_t frame[SP_FAX_FRAMES][SP_FAX_FRAME_MAX];
} sp_fax_t;

/* What the caller reads back at the end of a call. */
typedef struct {
    int done;
    int completion;
    int bit_rate;
    int ecm;
    int pages_tx;
    int pages_rx;
    int pages_in_file;
    int x_resolution;   /* pels per metre */
    int y_resolution;
    int width;
    int length;
    int image_size;
    int encoding;       /* T4_COMPRESSION_* of spandsp */
    int bad_rows;
    int64_t samples_tx;
    int64_t samples_rx;
    int64_t done_sample;
} sp_fax_report_t;

static void fax_phase_e(t30_state_t *t30, void *user_data, int completion_code)
{
    sp_fax_t *f = user_data;
    (void) t30;
    f->done = 1;
    f->completion = completion_code;
    f->done_sample = f->samples_tx;
}

static void fax_frame(t30_state_t *t30, void *user_data, int direction, const uint8_t msg[], int len)
{
    sp_fax_t *f = user_data;
    (void) t30;
    if (f->nframes < SP_FAX_FRAMES) {
        int k = f->nframes;
        int n = (len < SP_FAX_FRAME_MAX) ? len : SP_FAX_FRAME_MAX;
        f->frame_dir[k] = direction ? 1 : 0;
        f->frame_sample[k] = direction ? f->samples_rx : f->samples_tx;
        f->frame_len[k] = n;
        if (n > 0)
            memcpy(f->frame[k], msg, (size_t) n);
    }
    f->nframes++;
}

/* A fax terminal: calling or answering; sends tx_file (a TIFF-F, or NULL)
 * and/or receives into rx_file (or NULL).  modems: T30_SUPPORT_V27TER |
 * V29 | V17 bits; compressions: T30_SUPPORT_T4_1D/T4_2D/T6_COMPRESSION bits;
 * ident: the CSI/TSI to send, or NULL.  The terminal sends silence when it
 * has nothing to say, so sp_fax_tx always fills its block. */
sp_fax_t *sp_fax_new(int calling, const char *tx_file, const char *rx_file, int ecm,
                     int modems, int compressions, const char *ident, int *error)
{
    *error = 0;
    sp_fax_t *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        *error = SP_ERR_MEMORY;
        return NULL;
    }
    f->done_sample = -1;
    f->fax = fax_init(NULL, calling);
    if (f->fax == NULL) {
        free(f);
        *error = SP_ERR_MEMORY;
        return NULL;
    }
    fax_set_transmit_on_idle(f->fax, TRUE);
    fax_set_tep_mode(f->fax, FALSE);
    f->t30 = fax_get_t30_state(f->fax);
    sp_t30_setup(f->t30, tx_file, rx_file, ecm, modems, compressions);
    if (ident != NULL)
        t30_set_tx_ident(f->t30, ident);
    t30_set_phase_e_handler(f->t30, fax_phase_e, f);
    t30_set_real_time_frame_handler(f->t30, fax_frame, f);
    return f;
}

void sp_fax_free(sp_fax_t *f)
{
    if (f == NULL)
        return;
    fax_free(f->fax);
    free(f);
}

/* The next n samples the terminal sends; returns n. */
int sp_fax_tx(sp_fax_t *f, int16_t *out, int n)
{
    int made = 0;
    while (made < n) {
        int got = fax_tx(f->fax, out + made, n - made);
        if (got <= 0) {
            memset(out + made, 0, (size_t) (n - made) * sizeof(int16_t));
            got = n - made;
        }
        made += got;
    }
    f->samples_tx += n;
    return n;
}

/* Hear n samples; returns n. */
int sp_fax_rx(sp_fax_t *f, const int16_t *in, int n)
{
    /* fax_rx writes its input (it takes the DC out in place): it hears a
     * copy, so the caller's block (ours may be a terminal's own signal,
     * a shared silence) is never changed */
    int16_t buf[1024];
    for (int done = 0; done < n; ) {
        int k = n - done < 1024 ? n - done : 1024;
        memcpy(buf, in + done, (size_t) k * sizeof(int16_t));
        fax_rx(f->fax, buf, k);
        done += k;
    }
    f->samples_rx += n;
    return n;
}

/* n samples that never arrived (a lost packet): spandsp's own fill-in,
 * which runs its receivers' timing and carrier on without input; returns n. */
int sp_fax_rx_fillin(sp_fax_t *f, int n)
{
    fax_rx_fillin(f->fax, n);
    f->samples_rx += n;
    return n;
}

/* The line dropped (the far end's BYE): spandsp's t30_terminate, which a
 * telephony stack calls at hang-up; it ends the call in phase E (its handler
 * runs) with spandsp's verdict on how far the call had got.  Idempotent. */
void sp_fax_terminate(sp_fax_t *f)
{
    t30_terminate(f->t30);
}

void sp_fax_report(sp_fax_t *f, sp_fax_report_t *rep)
{
    t30_stats_t st;
    t30_get_transfer_statistics(f->t30, &st);
    memset(rep, 0, sizeof(*rep));
    rep->done = f->done;
    rep->completion = f->completion;
    rep->bit_rate = st.bit_rate;
    rep->ecm = st.error_correcting_mode;
    rep->pages_tx = st.pages_tx;
    rep->pages_rx = st.pages_rx;
    rep->pages_in_file = st.pages_in_file;
    rep->x_resolution = st.x_resolution;
    rep->y_resolution = st.y_resolution;
    rep->width = st.width;
    rep->length = st.length;
    rep->image_size = st.image_size;
    rep->encoding = st.encoding;
    rep->bad_rows = st.bad_rows;
    rep->samples_tx = f->samples_tx;
    rep->samples_rx = f->samples_rx;
    rep->done_sample = f->done_sample;
}

/* The NSF (its FIF, len octets) the terminal sends before CSI and DIS when
 * it answers; 0, or -1 when spandsp refused it. */
int sp_fax_set_nsf(sp_fax_t *f, const uint8_t *fif, int len)
{
    return t30_set_tx_nsf(f->t30, fif, len);
}

/* Frames logged so far: how many (may exceed what is kept). */
int sp_fax_nframes(const sp_fax_t *f)
{
    return f->nframes;
}

/* Frame k of the log: its bytes into buf (up to max), direction (1 received,
 * 0 sent) and sample; returns its length, or -1 if k is not kept. */
int sp_fax_frame(const sp_fax_t *f, int k, uint8_t *buf, int max, int *direction, int64_t *sample)
{
    if (k < 0 || k >= f->nframes || k >= SP_FAX_FRAMES)
        return -1;
    int n = (f->frame_len[k] < max) ? f->frame_len[k] : max;
    memcpy(buf, f->frame[k], (size_t) n);
    *direction = f->frame_dir[k];
    *sample = f->frame_sample[k];
    return n;
}

/* The remote's CSI/TSI as spandsp decoded it ("" if none). */
const char *sp_fax_remote_ident(sp_fax_t *f)
{
    const char *id = t30_get_rx_ident(f->t30);
    return id ? id : "";
}

/* spandsp's words for a T30_ERR_* completion code, and for a frame type. */
const char *sp_fax_completion_str(int code)
{
    return t30_completion_code_to_str(code);
}

const char *sp_fax_frametype(int fcf)
{
    return t30_frametype((uint8_t) fcf);
}

/* ---- 8. G.711 --------------------------------------------------------- */

/* spandsp's coders over every input: encoders for the int16 values -32768
 * to 32767 in order (65536 entries each), decoders for the codes 0 to 255. */
void sp_g711_tables(uint8_t *alaw_enc, uint8_t *ulaw_enc, int16_t *alaw_dec, int16_t *ulaw_dec)
{
    for (int x = -32768; x < 32768; x++) {
        alaw_enc[x + 32768] = linear_to_alaw(x);
        ulaw_enc[x + 32768] = linear_to_ulaw(x);
    }
    for (int c = 0; c < 256; c++) {
        alaw_dec[c] = alaw_to_linear((uint8_t) c);
        ulaw_dec[c] = ulaw_to_linear((uint8_t) c);
    }
}
