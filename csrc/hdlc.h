/*
 * hdlc.h: HDLC framing as T.30 §5.3.1 uses it (ISO/IEC 13239, formerly ISO 3309).
 *
 * A frame on the line is: flag 0x7E, the frame octets, the 16-bit FCS, flag.
 * Between the flags a 0 is inserted after every run of five 1s (zero-bit
 * insertion), so six 1s in a row only occur in a flag (01111110); seven or more
 * are an abort, fifteen or more mean the line is idle.  Octets go out LSB first.
 * The FCS is the ITU-T CRC-16 (x^16 + x^12 + x^5 + 1), register preset to all
 * ones, sent ones-complemented, low-order bit first; over a good frame plus its
 * FCS the receiver's register ends at the residue 0xF0B8.
 *
 * Bits are uint8 values 0/1, one per byte, in transmission order.
 */
#ifndef FAXENGINE_HDLC_H
#define FAXENGINE_HDLC_H

#include <stdint.h>

#define HDLC_FLAG_OCTET 0x7E
#define HDLC_CRC16_GOOD 0xF0B8
/* The largest frame (without FCS) a receiver can be configured for. */
#define HDLC_MAX_FRAME 2048

/* ITU-T CRC-16 over buf, continuing from crc (0xFFFF to start a frame). */
uint16_t hdlc_crc16(const uint8_t *buf, int len, uint16_t crc);

/* Worst-case number of bits hdlc_tx_frame writes for len octets. */
#define HDLC_TX_FRAME_MAX_BITS(len) ((((len) + 2) * 8 * 6) / 5 + 8)

/* Write n flags (8 n bits). Returns the number of bits written. */
int hdlc_tx_flags(uint8_t *bits, int n);

/* Write the body of one frame: data then its FCS, zero-bit stuffed, no
   flags.  Returns the number of bits written. */
int hdlc_tx_frame(const uint8_t *data, int len, uint8_t *bits);

/* Write an abort: a 0 then seven 1s (ISO/IEC 13239 §4.4.1 wants at least
   seven contiguous 1s).  Returns the number of bits written (8). */
int hdlc_tx_abort(uint8_t *bits);

typedef struct {
    int max_len;         /* longest frame accepted, octets without FCS */
    int framing_ok_threshold; /* consecutive flags that make framing_ok */
    /* bit level */
    int ones;            /* 1s received in a row, not yet appended */
    int in_frame;        /* a flag opened the current frame */
    uint32_t acc;        /* bits not yet a whole octet, LSB first */
    int nacc;            /* how many bits in acc */
    /* octet level */
    uint8_t buf[HDLC_MAX_FRAME + 2];
    int nbytes;          /* octets received in this frame (may exceed buf) */
    uint16_t crc;
    /* what the line looks like */
    int flag_run;        /* flags in a row with no frame between them */
    int framing_ok;
    int idle;            /* in a run of 15 or more 1s */
    long aborts;         /* frames cut short by an abort */
    long frames_ok;
    long frames_bad;
    /* the frame just completed, valid after hdlc_rx_bits reported one */
    int frame_len;       /* octets without FCS, at most max_len */
    int frame_ok;
} hdlc_rx_state_t;

void hdlc_rx_init(hdlc_rx_state_t *s, int max_len, int framing_ok_threshold);
void hdlc_rx_free(hdlc_rx_state_t *s);

/* Feed up to n bits.  Stops after the bit that completes a frame, sets
   *frame_ready to 1 and leaves the frame in s->buf[0 .. s->frame_len) with
   s->frame_ok; otherwise consumes all n and sets *frame_ready to 0.  Returns
   the number of bits consumed. */
int hdlc_rx_bits(hdlc_rx_state_t *s, const uint8_t *bits, int n, int *frame_ready);

#endif
