/*
 * spandsp_t38_terminal.c - libspandsp's T.38 terminal (t38_terminal.c: its
 * T.30 over IFP packets) as block functions for ctypes, the peer of
 * faxengine.t38.terminal.T38Terminal in the interop tests.  Compiled at test
 * time by spandsp_t38_terminal.py (never committed as a binary).
 *
 * One handle is a t38_terminal_state_t, paced for UDP (its default: data at
 * the modem's rate, 30 ms a packet), whose tx packet handler appends every
 * IFP packet (and the count of times spandsp wants it sent) to a queue the
 * caller drains after each step; received IFP octets go to its T.38 core
 * with the sequence number the caller gives (a gap is a lost packet).
 * Phase E is recorded with its completion code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <spandsp.h>
#include "../spandsp/spandsp_common.h"

typedef struct {
    t38_terminal_state_t *t38;
    t30_state_t *t30;
    int done, completion;
    int64_t samples, done_sample;
    sp_ifp_queue_t tx;
} stt_t;

typedef struct {
    int done, completion, bit_rate, ecm, pages_tx, pages_rx, encoding, bad_rows, overflow;
    int64_t samples, done_sample;
} stt_report_t;

static int tx_packet(t38_core_state_t *s, void *user_data, const uint8_t *buf, int len, int count)
{
    (void) s;
    return sp_ifp_queue_put(&((stt_t *) user_data)->tx, buf, len, count);
}

static void phase_e(t30_state_t *t30, void *user_data, int completion_code)
{
    stt_t *p = (stt_t *) user_data;
    (void) t30;
    p->done = 1;
    p->completion = completion_code;
    p->done_sample = p->samples;
}

/* calling: 1 calls; tx_file / rx_file: TIFF-F to send / to write (or NULL);
 * modems, compressions: T30_SUPPORT_* bits; version: T38FaxVersion. */
stt_t *stt_new(int calling, const char *tx_file, const char *rx_file, int ecm, int modems,
               int compressions, int version, int fill_bit_removal)
{
    stt_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->done_sample = -1;
    p->t38 = t38_terminal_init(NULL, calling, tx_packet, p);
    if (p->t38 == NULL) {
        free(p);
        return NULL;
    }
    t38_set_t38_version(t38_terminal_get_t38_core_state(p->t38), version);
    t38_terminal_set_fill_bit_removal(p->t38, fill_bit_removal);
    p->t30 = t38_terminal_get_t30_state(p->t38);
    sp_t30_setup(p->t30, tx_file, rx_file, ecm, modems, compressions);
    t30_set_tx_ident(p->t30, "5551234");
    t30_set_phase_e_handler(p->t30, phase_e, p);
    return p;
}

void stt_free(stt_t *p)
{
    if (p == NULL)
        return;
    t38_terminal_free(p->t38);
    free(p);
}

/* n samples of time pass; returns the number of packets queued to take. */
int stt_step(stt_t *p, int n)
{
    sp_ifp_queue_restart(&p->tx);
    p->samples += n;
    t38_terminal_send_timeout(p->t38, n);
    return p->tx.n;
}

/* The next packet queued by the last step: its octets into buf; returns its
 * length (count: how often spandsp wants it sent), or -1 when none is left. */
int stt_take(stt_t *p, uint8_t *buf, int max, int *count)
{
    return sp_ifp_queue_take(&p->tx, buf, max, count);
}

/* The NSF (its FIF) the terminal sends before CSI and DIS when it answers. */
int stt_set_nsf(stt_t *p, const uint8_t *fif, int len)
{
    return t30_set_tx_nsf(p->t30, fif, len);
}

/* localTCF as spandsp 0.0.6 has it: data rate management method 1 on its
 * T.38 core, and its T.30 in no-TCF mode (which sends no TCF, and as a
 * sender does not wait for CFR either). */
void stt_set_local_tcf(stt_t *p)
{
    t38_set_data_rate_management_method(t38_terminal_get_t38_core_state(p->t38),
                                        T38_DATA_RATE_MANAGEMENT_LOCAL_TCF);
    t30_set_iaf_mode(p->t30, T30_IAF_MODE_T38 | T30_IAF_MODE_NO_TCF);
}

/* One IFP packet that arrived, with its sequence number. */
int stt_rx(stt_t *p, const uint8_t *buf, int len, int seq)
{
    return t38_core_rx_ifp_packet(t38_terminal_get_t38_core_state(p->t38), buf, len,
                                  (uint16_t) seq);
}

void stt_report(stt_t *p, stt_report_t *r)
{
    t30_stats_t st;
    t30_get_transfer_statistics(p->t30, &st);
    memset(r, 0, sizeof(*r));
    r->done = p->done;
    r->completion = p->completion;
    r->bit_rate = st.bit_rate;
    r->ecm = st.error_correcting_mode;
    r->pages_tx = st.pages_tx;
    r->pages_rx = st.pages_rx;
    r->encoding = st.encoding;
    r->bad_rows = st.bad_rows;
    r->overflow = p->tx.overflow;
    r->samples = p->samples;
    r->done_sample = p->done_sample;
}

const char *stt_completion_str(int code)
{
    return t30_completion_code_to_str(code);
}
