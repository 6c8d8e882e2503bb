/*
 * libFuzzer target for the HDLC receiver in C (csrc/hdlc.c), built with
 * AddressSanitizer and UBSan by fuzz/run.sh.  Same input layout as
 * fuzz/fuzz_hdlc.py (they share a corpus):
 *
 *   octet 0   max_len: MAX_LENS[octet % 7];  octet 1: chunk key (0: one call)
 *   rest      line bits, octet by octet, MSB first
 *
 * Oracle: a frame reported good has 1..max_len octets and a good FCS over
 * its octets and the two FCS octets left behind it in the buffer; the bits
 * fed in pieces give the same frames as fed at once; hdlc_rx_bits consumes
 * what it says.  The bits sit in a block of exactly their size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdlc.h"

static const int MAX_LENS[] = {1, 2, 3, 4, 64, 260, 2048};

/* A running digest of the frames reported, to compare two ways of feeding. */
static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h;
}

static uint64_t feed(const uint8_t *bits, int n, int max_len, int key, long *frames)
{
    hdlc_rx_state_t s;
    hdlc_rx_init(&s, max_len, 4);
    uint64_t h = 0;
    int at = 0, step = 0;
    *frames = 0;
    while (at < n) {
        int chunk = key ? 1 + (key * (step + 1) * 7) % (2 * key + 1) : n - at;
        if (chunk > n - at)
            chunk = n - at;
        step++;
        int done = 0;
        while (done < chunk) {
            int ready;
            int used = hdlc_rx_bits(&s, bits + at + done, chunk - done, &ready);
            if (used < 1 || used > chunk - done)
                abort();
            done += used;
            if (!ready)
                continue;
            if (s.frame_len < 1 || s.frame_len > max_len)
                abort();
            if (s.frame_ok && hdlc_crc16(s.buf, s.frame_len + 2, 0xFFFF) != HDLC_CRC16_GOOD)
                abort();
            h = mix(h, (uint64_t) s.frame_ok << 32 | (uint64_t) s.frame_len);
            for (int i = 0; i < s.frame_len; i++)
                h = mix(h, s.buf[i]);
            (*frames)++;
        }
        at += chunk;
    }
    if (s.frames_ok + s.frames_bad != *frames)
        abort();
    hdlc_rx_free(&s);
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
    if (size < 2)
        return 0;
    int max_len = MAX_LENS[input[0] % 7];
    int key = input[1];
    int n = (int) (size - 2) * 8;
    uint8_t *bits = malloc(n ? (size_t) n : 1);
    for (int i = 0; i < n; i++)
        bits[i] = input[2 + i / 8] >> (7 - i % 8) & 1;
    long whole_frames, chunked_frames;
    uint64_t whole = feed(bits, n, max_len, 0, &whole_frames);
    uint64_t chunked = feed(bits, n, max_len, key ? key : 1, &chunked_frames);
    if (whole != chunked || whole_frames != chunked_frames) {
        fprintf(stderr, "chunking changed the frames\n");
        abort();
    }
    free(bits);
    return 0;
}
