/* v21rx_paths_test.c: the V.21 receiver's SSE2 code and its plain C
 * (v21rx_plain.c) give the same bits and the same state, block by block,
 * on a noisy FSK signal cut into uneven blocks with a hole in it. */
#include <stdint.h>
#include <string.h>

#include "ctest.h"
#include "v21rx.h"
#include "v21tx.h"

v21rx_state_t *v21rx_plain_init(v21rx_state_t *s, double mark_hz, double space_hz,
                                double on_level, double off_level);
int v21rx_plain_rx(v21rx_state_t *s, const int16_t *amp, int len, uint8_t *bits);
int v21rx_plain_rx_fillin(v21rx_state_t *s, int len, uint8_t *bits);

enum { BITS = 600, MAX = BITS * 40 + 4000 };

int main(void)
{
    static uint8_t bits[BITS], a[MAX], b[MAX];
    static int16_t amp[MAX];
    uint32_t seed = 1;
    for (int i = 0; i < BITS; i++) {
        seed = seed * 1664525u + 1013904223u;
        bits[i] = (uint8_t) (seed >> 31);
    }
    v21tx_state_t tx;
    v21tx_init(&tx, 1650.0, 1850.0, 3000.0);
    int n = v21tx_tx(&tx, bits, BITS, amp + 800);
    n += 800;
    for (int i = 0; i < n; i++) {
        /* noise of about a third of the tone's amplitude */
        seed = seed * 1664525u + 1013904223u;
        amp[i] = (int16_t) (amp[i] + (int) (seed >> 21) - 1024);
    }
    v21rx_state_t s, p;
    v21rx_init(&s, 1650.0, 1850.0, 100.0, 50.0);
    v21rx_plain_init(&p, 1650.0, 1850.0, 100.0, 50.0);
    int na = 0, nb = 0, at = 0, block = 1;
    while (at < n) {
        int len = block < n - at ? block : n - at;
        if (at >= 6000 && at < 6000 + 37) {
            na += v21rx_rx_fillin(&s, 37, a + na);
            nb += v21rx_plain_rx_fillin(&p, 37, b + nb);
            at += 37;
            continue;
        }
        na += v21rx_rx(&s, amp + at, len, a + na);
        nb += v21rx_plain_rx(&p, amp + at, len, b + nb);
        at += len;
        block = block * 7 % 163 + 1;
    }
    CHECK(na > BITS - 20, "only %d bits from %d sent", na, BITS);
    CHECK(na == nb && memcmp(a, b, (size_t) na) == 0, "SSE2 and plain C bits differ (%d and %d)", na, nb);
    CHECK(memcmp(&s, &p, sizeof(s)) == 0, "SSE2 and plain C states differ");
    return ctest_report();
}
