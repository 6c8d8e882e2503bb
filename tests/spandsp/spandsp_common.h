/*
 * spandsp_common.h - what every C harness of the tests sets up the same way
 * (tests/spandsp/harness.c, tests/t38/spandsp_t38_terminal.c,
 * tests/t38/spandsp_t38_gateway.c), stated once: a T.30 terminal's
 * capabilities, and the queue of IFP packets a T.38 core's tx handler fills
 * for Python to drain after each step.  Static inline functions: each harness is
 * its own shared library, compiled at test time (tests/spandsp build_library
 * rebuilds a harness when this header is newer than its library).
 */
#ifndef SPANDSP_COMMON_H
#define SPANDSP_COMMON_H

/* after the spandsp headers (t30_api.h at least): harness.c names them one by one */
#include <stdint.h>
#include <string.h>

/* A terminal's T.30 side: the file to send and/or the file to write (NULL:
 * none), ECM, the T30_SUPPORT_* modems and compressions offered, every
 * resolution and page size spandsp 0.0.6 knows (the pages of the tests are
 * fine-resolution A4 and Letter; the peer decides).  An NSF, where a test
 * wants one, is set afterwards (t30_set_tx_nsf). */
static inline void sp_t30_setup(t30_state_t *t30, const char *tx_file, const char *rx_file, int ecm,
                         int modems, int compressions)
{
    if (tx_file != NULL)
        t30_set_tx_file(t30, tx_file, -1, -1);
    if (rx_file != NULL)
        t30_set_rx_file(t30, rx_file, -1);
    t30_set_ecm_capability(t30, ecm);
    t30_set_supported_modems(t30, modems);
    t30_set_supported_compressions(t30, compressions);
    t30_set_supported_resolutions(t30, T30_SUPPORT_STANDARD_RESOLUTION | T30_SUPPORT_FINE_RESOLUTION
                                  | T30_SUPPORT_SUPERFINE_RESOLUTION | T30_SUPPORT_R8_RESOLUTION
                                  | T30_SUPPORT_R16_RESOLUTION | T30_SUPPORT_300_300_RESOLUTION
                                  | T30_SUPPORT_400_400_RESOLUTION);
    t30_set_supported_image_sizes(t30, T30_SUPPORT_215MM_WIDTH | T30_SUPPORT_255MM_WIDTH
                                  | T30_SUPPORT_303MM_WIDTH | T30_SUPPORT_UNLIMITED_LENGTH
                                  | T30_SUPPORT_A4_LENGTH | T30_SUPPORT_B4_LENGTH
                                  | T30_SUPPORT_US_LETTER_LENGTH | T30_SUPPORT_US_LEGAL_LENGTH);
}

#define SP_IFP_QUEUE 512
#define SP_IFP_MAXLEN 1500

/* IFP packets a T.38 core sent during one step, with the number of times it
 * wants each sent (its indicator and sig-end repeats). */
typedef struct {
    int n, taken, overflow;
    int len[SP_IFP_QUEUE], count[SP_IFP_QUEUE];
    uint8_t buf[SP_IFP_QUEUE][SP_IFP_MAXLEN];
} sp_ifp_queue_t;

/* A step begins: what was queued before is gone (take it first). */
static inline void sp_ifp_queue_restart(sp_ifp_queue_t *q)
{
    q->n = q->taken = 0;
}

/* The tx packet handler's work; -1 (and counted) when the queue is full. */
static inline int sp_ifp_queue_put(sp_ifp_queue_t *q, const uint8_t *buf, int len, int count)
{
    if (q->n >= SP_IFP_QUEUE || len > SP_IFP_MAXLEN) {
        q->overflow++;
        return -1;
    }
    memcpy(q->buf[q->n], buf, (size_t) len);
    q->len[q->n] = len;
    q->count[q->n++] = count;
    return 0;
}

/* The next packet queued: its octets into out (at most max), count (may be
 * NULL) how often it goes; its length, or -1 when none is left. */
static inline int sp_ifp_queue_take(sp_ifp_queue_t *q, uint8_t *out, int max, int *count)
{
    if (q->taken >= q->n)
        return -1;
    int k = q->taken++;
    int n = (q->len[k] < max) ? q->len[k] : max;
    memcpy(out, q->buf[k], (size_t) n);
    if (count != NULL)
        *count = q->count[k];
    return n;
}

#endif
