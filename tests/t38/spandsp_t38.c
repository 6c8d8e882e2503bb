/*
 * spandsp_t38.c - libspandsp's T.38 core (t38_core.c) as block functions for
 * ctypes: what it puts on the wire for each indicator and data packet, and
 * what it reports when given IFP octets.  Compiled at test time by
 * spandsp_t38.py (never committed as a binary).
 *
 * One "peer" is a t38_core_state_t whose tx packet handler appends every IFP
 * packet to a queue and whose rx handlers append every indicator, data field
 * and missing-packet report to an event queue; Python drains both.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <spandsp.h>

#define QUEUE 64
#define MAXLEN 2048

typedef struct {
    int kind;               /* 0 indicator, 1 data, 2 missing */
    int a, b;               /* indicator | data type, field type | rx seq, expected */
    int len;
    uint8_t buf[MAXLEN];
} event_t;

typedef struct {
    t38_core_state_t *t38;
    int ntx, nrx;
    int tx_len[QUEUE];
    uint8_t tx_buf[QUEUE][MAXLEN];
    event_t rx[QUEUE];
} peer_t;

static int tx_packet(t38_core_state_t *s, void *user_data, const uint8_t *buf, int len, int count)
{
    peer_t *p = (peer_t *) user_data;
    (void) s; (void) count;
    if (p->ntx >= QUEUE || len > MAXLEN)
        return -1;
    memcpy(p->tx_buf[p->ntx], buf, len);
    p->tx_len[p->ntx++] = len;
    return 0;
}

static event_t *next_event(peer_t *p)
{
    if (p->nrx >= QUEUE)
        return NULL;
    memset(&p->rx[p->nrx], 0, sizeof(event_t));
    return &p->rx[p->nrx++];
}

static int rx_indicator(t38_core_state_t *s, void *user_data, int indicator)
{
    event_t *e = next_event((peer_t *) user_data);
    (void) s;
    if (e) { e->kind = 0; e->a = indicator; }
    return 0;
}

static int rx_data(t38_core_state_t *s, void *user_data, int data_type, int field_type,
                   const uint8_t *buf, int len)
{
    event_t *e = next_event((peer_t *) user_data);
    (void) s;
    if (e) {
        e->kind = 1; e->a = data_type; e->b = field_type;
        e->len = (len > MAXLEN) ? MAXLEN : len;
        if (buf && e->len > 0)
            memcpy(e->buf, buf, e->len);
    }
    return 0;
}

static int rx_missing(t38_core_state_t *s, void *user_data, int rx_seq_no, int expected_seq_no)
{
    event_t *e = next_event((peer_t *) user_data);
    (void) s;
    if (e) { e->kind = 2; e->a = rx_seq_no; e->b = expected_seq_no; }
    return 0;
}

peer_t *st_new(int version, int check_seq)
{
    peer_t *p = calloc(1, sizeof(peer_t));
    if (p == NULL)
        return NULL;
    p->t38 = t38_core_init(NULL, rx_indicator, rx_data, rx_missing, p, tx_packet, p);
    if (p->t38 == NULL) {
        free(p);
        return NULL;
    }
    t38_set_t38_version(p->t38, version);
    /* check_seq 0: each packet is judged alone; 1: spandsp reports gaps */
    t38_set_sequence_number_handling(p->t38, check_seq);
    t38_set_pace_transmission(p->t38, 0);
    return p;
}

void st_free(peer_t *p)
{
    if (p) {
        t38_core_free(p->t38);
        free(p);
    }
}

/* Send one indicator (even if it repeats the last one); returns spandsp's code. */
int st_send_indicator(peer_t *p, int indicator)
{
    t38_core_restart(p->t38);
    return t38_core_send_indicator(p->t38, indicator);
}

/* Send a data packet of n fields: types[i], lens[i] octets taken in turn from data. */
int st_send_data(peer_t *p, int data_type, const int *types, const int *lens,
                 const uint8_t *data, int n)
{
    t38_data_field_t fields[32];
    int i;
    int off = 0;
    if (n > 32)
        return -2;
    for (i = 0;  i < n;  i++) {
        fields[i].field_type = types[i];
        fields[i].field = data + off;
        fields[i].field_len = lens[i];
        off += lens[i];
    }
    return t38_core_send_data_multi_field(p->t38, data_type, fields, n, T38_PACKET_CATEGORY_CONTROL_DATA);
}

/* The oldest queued tx packet into buf: its length, or -1 when none. */
int st_take_tx(peer_t *p, uint8_t *buf, int max)
{
    int len;
    if (p->ntx == 0)
        return -1;
    len = p->tx_len[0];
    if (len > max)
        return -2;
    memcpy(buf, p->tx_buf[0], len);
    p->ntx--;
    memmove(p->tx_buf[0], p->tx_buf[1], (size_t) p->ntx * MAXLEN);
    memmove(&p->tx_len[0], &p->tx_len[1], (size_t) p->ntx * sizeof(int));
    return len;
}

/* Give spandsp one IFP packet; returns t38_core_rx_ifp_packet's result (0 OK, -1 refused). */
int st_rx(peer_t *p, const uint8_t *buf, int len, int seq)
{
    return t38_core_rx_ifp_packet(p->t38, buf, len, (uint16_t) seq);
}

int st_nevents(peer_t *p)
{
    return p->nrx;
}

/* Event i: kind, a, b into out[0..2]; its octets into buf; returns their count. */
int st_event(peer_t *p, int i, int *out, uint8_t *buf, int max)
{
    event_t *e;
    if (i < 0 || i >= p->nrx)
        return -1;
    e = &p->rx[i];
    out[0] = e->kind; out[1] = e->a; out[2] = e->b;
    if (e->len > max)
        return -2;
    memcpy(buf, e->buf, e->len);
    return e->len;
}

void st_clear_events(peer_t *p)
{
    p->nrx = 0;
}
