/*
 * libFuzzer target for the receivers in C (csrc/v21rx.c, v27ter_rx.c,
 * v29rx.c, v17rx.c over the dsp_*.c blocks, and the tone detector tone.c),
 * built with AddressSanitizer and UBSan by fuzz/run.sh.  Same input layout
 * as fuzz/fuzz_modem.py (they share a corpus):
 *
 *   octet 0   receiver: 0 V.21, 1 tones, 2-3 V.27ter 4800/2400,
 *             4-6 V.29 9600/7200/4800, 7-10 V.17 14400/12000/9600/7200 (mod 11)
 *   octet 1   chunk key (0: one call); octet 2 bit 0: repeat to 8000 samples
 *   rest      int16 samples, little-endian
 *
 * Each call gets an output buffer of exactly the size the header promises
 * is enough, so a receiver writing one bit too many is a sanitizer report;
 * UBSan reports float-to-int overflows on hostile levels.  Bits must be 0/1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tone.h"
#include "v17rx.h"
#include "v21rx.h"
#include "v27ter_rx.h"
#include "v29rx.h"

#define REPEAT_SAMPLES 8000
/* faxengine.levels.dbm0_to_power(-45.0) and (-48.0): V.21 carrier ON/OFF, tone minimum */
#define LEVEL_ON 8238.409335641616
#define LEVEL_OFF 4128.985584419317

static const int V27_RATES[] = {4800, 2400};
static const int V29_RATES[] = {9600, 7200, 4800};
static const int V17_RATES[] = {14400, 12000, 9600, 7200};

static void check_bits(const uint8_t *bits, int n, int room)
{
    if (n < 0 || n > room)
        abort();
    for (int i = 0; i < n; i++)
        if (bits[i] > 1)
            abort();
}

static void run(int which, const int16_t *amp, int n, int key)
{
    v21rx_state_t v21;
    tone_det_state_t tones;
    v17_rx_state_t v17;
    v27ter_rx_state_t *v27 = NULL;
    v29_rx_state_t *v29 = NULL;
    static const int qualify_ms[TONE_KINDS] = {400, 500, 150};

    if (which == 0)
        v21rx_init(&v21, 1650.0, 1850.0, LEVEL_ON, LEVEL_OFF);
    else if (which == 1)
        tone_det_init(&tones, LEVEL_ON, qualify_ms);
    else if (which <= 3)
        v27 = v27ter_rx_init(NULL, V27_RATES[which - 2]);
    else if (which <= 6)
        v29 = v29_rx_init(NULL, V29_RATES[which - 4]);
    else if (v17_rx_init(&v17, V17_RATES[which - 7]) < 0)
        abort();
    if ((which == 2 || which == 3) && v27 == NULL)
        abort();
    if (which >= 4 && which <= 6 && v29 == NULL)
        abort();

    int at = 0, step = 0;
    while (at < n) {
        int len = key ? 1 + (key * (step + 1) * 7) % (2 * key + 1) : n - at;
        if (len > n - at)
            len = n - at;
        step++;
        /* the samples of this call in a block of their own, exactly sized */
        int16_t *chunk = malloc((size_t) len * sizeof(int16_t));
        memcpy(chunk, amp + at, (size_t) len * sizeof(int16_t));
        int room;
        uint8_t *bits;
        if (which == 1) {
            room = TONE_DET_MAX_EVENTS(len);
            tone_event_t *events = malloc((size_t) room * sizeof(tone_event_t));
            int k = tone_det_rx(&tones, chunk, len, events);
            if (k < 0 || k > room)
                abort();
            free(events);
        } else {
            room = which == 0 ? V21RX_MAX_BITS(len)
                 : which <= 3 ? v27ter_rx_max_bits(len)
                 : which <= 6 ? v29_rx_max_bits(len) : V17_RX_MAX_BITS(len);
            bits = malloc(room ? (size_t) room : 1);
            int k = which == 0 ? v21rx_rx(&v21, chunk, len, bits)
                  : which <= 3 ? v27ter_rx(v27, chunk, len, bits)
                  : which <= 6 ? v29_rx(v29, chunk, len, bits) : v17_rx(&v17, chunk, len, bits);
            check_bits(bits, k, room);
            free(bits);
        }
        free(chunk);
        at += len;
    }
    if (which == 0)
        v21rx_free(&v21);
    else if (which == 1)
        tone_det_free(&tones);
    else if (v27)
        v27ter_rx_free(v27);
    else if (v29)
        v29_rx_free(v29);
    else
        v17_rx_free(&v17);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
    if (size < 3)
        return 0;
    int which = input[0] % 11;
    int key = input[1];
    int repeat = input[2] & 1;
    int n = (int) (size - 3) / 2;
    int total = repeat && n ? REPEAT_SAMPLES : n;
    int16_t *amp = malloc((total ? (size_t) total : 1) * sizeof(int16_t));
    for (int i = 0; i < total; i++) {
        int j = 3 + 2 * (i % n);
        amp[i] = (int16_t) (input[j] | input[j + 1] << 8);
    }
    run(which, amp, total, key);
    free(amp);
    return 0;
}
