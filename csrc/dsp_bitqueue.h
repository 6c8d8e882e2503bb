/* dsp_bitqueue.h: a growing FIFO of 0/1 bytes, the data bits a transmitter
 * has been handed but not yet sent. */
#ifndef FAXENGINE_DSP_BITQUEUE_H
#define FAXENGINE_DSP_BITQUEUE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *bits;
    size_t head, tail, cap;
} dsp_bitqueue_t;

static inline void dsp_bitqueue_free(dsp_bitqueue_t *q)
{
    free(q->bits);
    memset(q, 0, sizeof(*q));
}

static inline size_t dsp_bitqueue_len(const dsp_bitqueue_t *q) { return q->tail - q->head; }

/* Append n bits; 0 or -1 when out of memory. */
static inline int dsp_bitqueue_put(dsp_bitqueue_t *q, const uint8_t *bits, size_t n)
{
    if (q->head > 0 && q->head == q->tail)
        q->head = q->tail = 0;
    if (q->tail + n > q->cap) {
        size_t live = q->tail - q->head;
        if (q->head > 0) {
            memmove(q->bits, q->bits + q->head, live);
            q->head = 0;
            q->tail = live;
        }
        if (live + n > q->cap) {
            size_t cap = q->cap ? q->cap : 1024;
            while (cap < live + n)
                cap *= 2;
            uint8_t *b = realloc(q->bits, cap);
            if (!b)
                return -1;
            q->bits = b;
            q->cap = cap;
        }
    }
    for (size_t i = 0; i < n; i++)
        q->bits[q->tail + i] = bits[i] & 1;
    q->tail += n;
    return 0;
}

static inline int dsp_bitqueue_get(dsp_bitqueue_t *q)
{
    return q->bits[q->head++];
}

#endif
