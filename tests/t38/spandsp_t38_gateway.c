/*
 * spandsp_t38_gateway.c - libspandsp's T.38 gateway (t38_gateway.c) as block
 * functions for ctypes: the reference that faxengine.t38.gateway.T38Gateway
 * is measured against (bench/test_t38_gateway.py) and run with in the tests.
 * Compiled at test time by spandsp_t38_gateway.py (never committed as a
 * binary).
 *
 * One handle is a t38_gateway_state_t.  Audio goes in with sgw_rx and out
 * with sgw_tx (transmit on idle: always the samples asked for); the IFP
 * packets its T.38 core sends meanwhile are queued for sgw_take, packets that
 * arrived go to its core with the sequence number the caller gives (a gap is
 * a lost packet).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>
#include "../spandsp/spandsp_common.h"

typedef struct {
    t38_gateway_state_t *gw;
    sp_ifp_queue_t tx;
} sgw_t;

static int gw_packet(t38_core_state_t *s, void *user_data, const uint8_t *buf, int len, int count)
{
    (void) s;
    return sp_ifp_queue_put(&((sgw_t *) user_data)->tx, buf, len, count);
}

sgw_t *sgw_new(int version, int ecm)
{
    sgw_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->gw = t38_gateway_init(NULL, gw_packet, p);
    if (p->gw == NULL) {
        free(p);
        return NULL;
    }
    t38_set_t38_version(t38_gateway_get_t38_core_state(p->gw), version);
    t38_gateway_set_ecm_capability(p->gw, ecm);
    t38_gateway_set_transmit_on_idle(p->gw, 1);
    t38_gateway_set_supported_modems(p->gw, T30_SUPPORT_V27TER | T30_SUPPORT_V29 | T30_SUPPORT_V17);
    return p;
}

void sgw_free(sgw_t *p)
{
    if (p == NULL)
        return;
    t38_gateway_free(p->gw);
    free(p);
}

/* Audio heard from the fax machine; the packets it made are queued (the
 * queue restarts here: take them before the next call). */
int sgw_rx(sgw_t *p, int16_t *amp, int len)
{
    sp_ifp_queue_restart(&p->tx);
    return t38_gateway_rx(p->gw, amp, len);
}

/* Audio to play to the fax machine; packets it sends meanwhile are queued too. */
int sgw_tx(sgw_t *p, int16_t *amp, int len)
{
    return t38_gateway_tx(p->gw, amp, len);
}

int sgw_take(sgw_t *p, uint8_t *buf, int max)
{
    return sp_ifp_queue_take(&p->tx, buf, max, NULL);
}

int sgw_rx_ifp(sgw_t *p, const uint8_t *buf, int len, int seq)
{
    return t38_core_rx_ifp_packet(t38_gateway_get_t38_core_state(p->gw), buf, len, (uint16_t) seq);
}
