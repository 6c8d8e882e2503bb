/* qam_tx.c: the part of the V.29 and V.27ter transmitters that is the same
 * for both: the queue of data bits, pulse shaping and the carrier
 * (dsp_shaper_t, a root raised cosine), the transmit level, and the end of a
 * transmission.  After finish, 32 symbols of scrambled ones let a receiver
 * flush its equaliser, then `span` symbols of silence let the filter tail
 * die out and the transmitter stops.  The modems keep their training
 * sequences, scramblers and signal points (v29tx.c, v27ter_tx.c).
 */
#include <math.h>
#include <string.h>

#include "dsp_agc.h"
#include "qam_tx.h"

int qam_tx_init(qam_tx_t *t, int bps, int phases, int step, int span, float beta, float carrier_hz,
                float power_dbm0, float mean_energy)
{
    memset(t, 0, sizeof(*t));
    t->bps = bps;
    t->span = span;
    if (dsp_shaper_init(&t->sh, phases, step, span, beta, carrier_hz, 1.0f) < 0)
        return -1;
    /* mean_energy: of the data constellation, so that the data sit at power_dbm0 */
    t->sh.gain = sqrtf(dsp_dbm0_to_power(power_dbm0) / (mean_energy * dsp_shaper_power(&t->sh)));
    return 0;
}

void qam_tx_free(qam_tx_t *t)
{
    dsp_shaper_free(&t->sh);
    dsp_bitqueue_free(&t->q);
}

int qam_tx_put_bits(qam_tx_t *t, const uint8_t *bits, int n)
{
    return dsp_bitqueue_put(&t->q, bits, (size_t) n);
}

void qam_tx_finish(qam_tx_t *t)
{
    t->finishing = 1;
}
