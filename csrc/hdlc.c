/*
 * hdlc.c: HDLC zero-bit insertion/removal, flags, aborts and the CRC-16 FCS.
 * What the framing is and why: see hdlc.h.
 */
#include <string.h>

#include "hdlc.h"

/* CRC-16 of ITU-T V.42 §8.1.1.6.1 / ISO/IEC 13239, bit-reversed (LSB first,
   as HDLC sends octets), one entry per octet value: generator 0x8408 is
   x^16 + x^12 + x^5 + 1 reflected. */
static const uint16_t crc16_table[256] = {
    0x0000, 0x1189, 0x2312, 0x329B, 0x4624, 0x57AD, 0x6536, 0x74BF,
    0x8C48, 0x9DC1, 0xAF5A, 0xBED3, 0xCA6C, 0xDBE5, 0xE97E, 0xF8F7,
    0x1081, 0x0108, 0x3393, 0x221A, 0x56A5, 0x472C, 0x75B7, 0x643E,
    0x9CC9, 0x8D40, 0xBFDB, 0xAE52, 0xDAED, 0xCB64, 0xF9FF, 0xE876,
    0x2102, 0x308B, 0x0210, 0x1399, 0x6726, 0x76AF, 0x4434, 0x55BD,
    0xAD4A, 0xBCC3, 0x8E58, 0x9FD1, 0xEB6E, 0xFAE7, 0xC87C, 0xD9F5,
    0x3183, 0x200A, 0x1291, 0x0318, 0x77A7, 0x662E, 0x54B5, 0x453C,
    0xBDCB, 0xAC42, 0x9ED9, 0x8F50, 0xFBEF, 0xEA66, 0xD8FD, 0xC974,
    0x4204, 0x538D, 0x6116, 0x709F, 0x0420, 0x15A9, 0x2732, 0x36BB,
    0xCE4C, 0xDFC5, 0xED5E, 0xFCD7, 0x8868, 0x99E1, 0xAB7A, 0xBAF3,
    0x5285, 0x430C, 0x7197, 0x601E, 0x14A1, 0x0528, 0x37B3, 0x263A,
    0xDECD, 0xCF44, 0xFDDF, 0xEC56, 0x98E9, 0x8960, 0xBBFB, 0xAA72,
    0x6306, 0x728F, 0x4014, 0x519D, 0x2522, 0x34AB, 0x0630, 0x17B9,
    0xEF4E, 0xFEC7, 0xCC5C, 0xDDD5, 0xA96A, 0xB8E3, 0x8A78, 0x9BF1,
    0x7387, 0x620E, 0x5095, 0x411C, 0x35A3, 0x242A, 0x16B1, 0x0738,
    0xFFCF, 0xEE46, 0xDCDD, 0xCD54, 0xB9EB, 0xA862, 0x9AF9, 0x8B70,
    0x8408, 0x9581, 0xA71A, 0xB693, 0xC22C, 0xD3A5, 0xE13E, 0xF0B7,
    0x0840, 0x19C9, 0x2B52, 0x3ADB, 0x4E64, 0x5FED, 0x6D76, 0x7CFF,
    0x9489, 0x8500, 0xB79B, 0xA612, 0xD2AD, 0xC324, 0xF1BF, 0xE036,
    0x18C1, 0x0948, 0x3BD3, 0x2A5A, 0x5EE5, 0x4F6C, 0x7DF7, 0x6C7E,
    0xA50A, 0xB483, 0x8618, 0x9791, 0xE32E, 0xF2A7, 0xC03C, 0xD1B5,
    0x2942, 0x38CB, 0x0A50, 0x1BD9, 0x6F66, 0x7EEF, 0x4C74, 0x5DFD,
    0xB58B, 0xA402, 0x9699, 0x8710, 0xF3AF, 0xE226, 0xD0BD, 0xC134,
    0x39C3, 0x284A, 0x1AD1, 0x0B58, 0x7FE7, 0x6E6E, 0x5CF5, 0x4D7C,
    0xC60C, 0xD785, 0xE51E, 0xF497, 0x8028, 0x91A1, 0xA33A, 0xB2B3,
    0x4A44, 0x5BCD, 0x6956, 0x78DF, 0x0C60, 0x1DE9, 0x2F72, 0x3EFB,
    0xD68D, 0xC704, 0xF59F, 0xE416, 0x90A9, 0x8120, 0xB3BB, 0xA232,
    0x5AC5, 0x4B4C, 0x79D7, 0x685E, 0x1CE1, 0x0D68, 0x3FF3, 0x2E7A,
    0xE70E, 0xF687, 0xC41C, 0xD595, 0xA12A, 0xB0A3, 0x8238, 0x93B1,
    0x6B46, 0x7ACF, 0x4854, 0x59DD, 0x2D62, 0x3CEB, 0x0E70, 0x1FF9,
    0xF78F, 0xE606, 0xD49D, 0xC514, 0xB1AB, 0xA022, 0x92B9, 0x8330,
    0x7BC7, 0x6A4E, 0x58D5, 0x495C, 0x3DE3, 0x2C6A, 0x1EF1, 0x0F78,
};

/* The runs of 1s in each octet sent LSB first: bits 0-3 the 1s it starts
   with, bits 4-7 those it ends with, bits 8-11 its longest run (8 for 0xFF).
   An octet whose longest run is under five, and whose first run with the 1s
   before it is under five too, needs no inserted 0 and holds no flag or
   abort: it is stuffed, or taken, eight bits at once. */
static const uint16_t octet_runs[256] = {
    0x000, 0x101, 0x100, 0x202, 0x100, 0x101, 0x200, 0x303,
    0x100, 0x101, 0x100, 0x202, 0x200, 0x201, 0x300, 0x404,
    0x100, 0x101, 0x100, 0x202, 0x100, 0x101, 0x200, 0x303,
    0x200, 0x201, 0x200, 0x202, 0x300, 0x301, 0x400, 0x505,
    0x100, 0x101, 0x100, 0x202, 0x100, 0x101, 0x200, 0x303,
    0x100, 0x101, 0x100, 0x202, 0x200, 0x201, 0x300, 0x404,
    0x200, 0x201, 0x200, 0x202, 0x200, 0x201, 0x200, 0x303,
    0x300, 0x301, 0x300, 0x302, 0x400, 0x401, 0x500, 0x606,
    0x100, 0x101, 0x100, 0x202, 0x100, 0x101, 0x200, 0x303,
    0x100, 0x101, 0x100, 0x202, 0x200, 0x201, 0x300, 0x404,
    0x100, 0x101, 0x100, 0x202, 0x100, 0x101, 0x200, 0x303,
    0x200, 0x201, 0x200, 0x202, 0x300, 0x301, 0x400, 0x505,
    0x200, 0x201, 0x200, 0x202, 0x200, 0x201, 0x200, 0x303,
    0x200, 0x201, 0x200, 0x202, 0x200, 0x201, 0x300, 0x404,
    0x300, 0x301, 0x300, 0x302, 0x300, 0x301, 0x300, 0x303,
    0x400, 0x401, 0x400, 0x402, 0x500, 0x501, 0x600, 0x707,
    0x110, 0x111, 0x110, 0x212, 0x110, 0x111, 0x210, 0x313,
    0x110, 0x111, 0x110, 0x212, 0x210, 0x211, 0x310, 0x414,
    0x110, 0x111, 0x110, 0x212, 0x110, 0x111, 0x210, 0x313,
    0x210, 0x211, 0x210, 0x212, 0x310, 0x311, 0x410, 0x515,
    0x110, 0x111, 0x110, 0x212, 0x110, 0x111, 0x210, 0x313,
    0x110, 0x111, 0x110, 0x212, 0x210, 0x211, 0x310, 0x414,
    0x210, 0x211, 0x210, 0x212, 0x210, 0x211, 0x210, 0x313,
    0x310, 0x311, 0x310, 0x312, 0x410, 0x411, 0x510, 0x616,
    0x220, 0x221, 0x220, 0x222, 0x220, 0x221, 0x220, 0x323,
    0x220, 0x221, 0x220, 0x222, 0x220, 0x221, 0x320, 0x424,
    0x220, 0x221, 0x220, 0x222, 0x220, 0x221, 0x220, 0x323,
    0x220, 0x221, 0x220, 0x222, 0x320, 0x321, 0x420, 0x525,
    0x330, 0x331, 0x330, 0x332, 0x330, 0x331, 0x330, 0x333,
    0x330, 0x331, 0x330, 0x332, 0x330, 0x331, 0x330, 0x434,
    0x440, 0x441, 0x440, 0x442, 0x440, 0x441, 0x440, 0x443,
    0x550, 0x551, 0x550, 0x552, 0x660, 0x661, 0x770, 0x888,
};

/* Each octet's bits, LSB first, one to a byte (as the bit arrays hold them). */
#define OCTET(o) {(o) & 1, ((o) >> 1) & 1, ((o) >> 2) & 1, ((o) >> 3) & 1, \
                  ((o) >> 4) & 1, ((o) >> 5) & 1, ((o) >> 6) & 1, ((o) >> 7) & 1}
#define OCTETS4(o) OCTET(o), OCTET((o) + 1), OCTET((o) + 2), OCTET((o) + 3)
#define OCTETS16(o) OCTETS4(o), OCTETS4((o) + 4), OCTETS4((o) + 8), OCTETS4((o) + 12)
#define OCTETS64(o) OCTETS16(o), OCTETS16((o) + 16), OCTETS16((o) + 32), OCTETS16((o) + 48)
static const uint8_t octet_bits[256][8] = {
    OCTETS64(0), OCTETS64(64), OCTETS64(128), OCTETS64(192)
};

#define RUN_FIRST(r) ((r) & 0xF)
#define RUN_LAST(r) (((r) >> 4) & 0xF)
#define RUN_LONGEST(r) ((r) >> 8)

uint16_t hdlc_crc16(const uint8_t *buf, int len, uint16_t crc)
{
    for (int i = 0; i < len; i++)
        crc = (uint16_t) ((crc >> 8) ^ crc16_table[(crc ^ buf[i]) & 0xFF]);
    return crc;
}

int hdlc_tx_flags(uint8_t *bits, int n)
{
    static const uint8_t flag[8] = {0, 1, 1, 1, 1, 1, 1, 0};
    for (int i = 0; i < n; i++)
        memcpy(bits + 8 * i, flag, 8);
    return 8 * n;
}

int hdlc_tx_abort(uint8_t *bits)
{
    bits[0] = 0;
    for (int i = 1; i < 8; i++)
        bits[i] = 1;
    return 8;
}

/* Append the octet's 8 bits LSB first, inserting a 0 after five 1s. */
static inline int stuff_octet(uint8_t octet, uint8_t *bits, int n, int *ones)
{
    unsigned runs = octet_runs[octet];
    if (RUN_LONGEST(runs) < 5 && *ones + (int) RUN_FIRST(runs) < 5) {
        /* no 0 to insert (most octets): the eight bits as they are */
        memcpy(bits + n, octet_bits[octet], 8);
        *ones = (int) RUN_LAST(runs);
        return n + 8;
    }
    for (int i = 0; i < 8; i++) {
        int b = (octet >> i) & 1;
        bits[n++] = (uint8_t) b;
        if (b) {
            if (++*ones == 5) {
                bits[n++] = 0;
                *ones = 0;
            }
        } else {
            *ones = 0;
        }
    }
    return n;
}

int hdlc_tx_frame(const uint8_t *data, int len, uint8_t *bits)
{
    int n = 0;
    int ones = 0;
    uint16_t fcs = (uint16_t) ~hdlc_crc16(data, len, 0xFFFF);

    for (int i = 0; i < len; i++)
        n = stuff_octet(data[i], bits, n, &ones);
    /* FCS low-order octet first, each LSB first: the register's x^15 term
       goes out first (ISO/IEC 13239 §4.2.2). */
    n = stuff_octet((uint8_t) (fcs & 0xFF), bits, n, &ones);
    n = stuff_octet((uint8_t) (fcs >> 8), bits, n, &ones);
    return n;
}

static void rx_new_frame(hdlc_rx_state_t *s)
{
    s->acc = 0;
    s->nacc = 0;
    s->nbytes = 0;
    s->crc = 0xFFFF;
}

void hdlc_rx_init(hdlc_rx_state_t *s, int max_len, int framing_ok_threshold)
{
    memset(s, 0, sizeof(*s));
    if (max_len > HDLC_MAX_FRAME)
        max_len = HDLC_MAX_FRAME;
    if (max_len < 1)
        max_len = 1;
    s->max_len = max_len;
    s->framing_ok_threshold = framing_ok_threshold;
    rx_new_frame(s);
}

void hdlc_rx_free(hdlc_rx_state_t *s)
{
    (void) s;
}

/* Append k (1..8) data bits, LSB first; whole octets go to the buffer and the
   CRC.  Octets past max_len + 2 are neither stored nor counted beyond
   max_len + 3: enough to know the frame is too long, hence bad. */
static inline void rx_append(hdlc_rx_state_t *s, uint32_t value, int k)
{
    s->acc |= value << s->nacc;
    s->nacc += k;
    if (s->nacc >= 8) {
        uint8_t octet = (uint8_t) s->acc;
        if (s->nbytes < s->max_len + 2) {
            s->buf[s->nbytes] = octet;
            s->crc = (uint16_t) ((s->crc >> 8) ^ crc16_table[(s->crc ^ octet) & 0xFF]);
        }
        if (s->nbytes <= s->max_len + 2)
            s->nbytes++;
        s->acc >>= 8;
        s->nacc -= 8;
    }
}

/* A flag closed the current frame.  Its leading 0 was appended as data
   before the 1s showed it was a flag, so a frame of whole octets leaves
   exactly one bit in acc.  Returns 1 when there is a frame to report. */
static int rx_close_frame(hdlc_rx_state_t *s)
{
    int report = 0;

    if (s->in_frame && s->nbytes >= 3) {
        /* At least one octet besides the FCS: a frame.  Shorter fragments
           between flags are line noise and are dropped silently. */
        int aligned = (s->nacc == 1);
        int too_long = (s->nbytes > s->max_len + 2);
        int len = (too_long ? s->max_len + 2 : s->nbytes) - 2;
        s->frame_len = len;
        s->frame_ok = aligned && !too_long && s->crc == HDLC_CRC16_GOOD;
        if (s->frame_ok)
            s->frames_ok++;
        else
            s->frames_bad++;
        s->flag_run = 0;
        s->framing_ok = 0;
        report = 1;
    } else if (s->nbytes > 0) {
        s->flag_run = 0;
    }
    return report;
}

int hdlc_rx_bits(hdlc_rx_state_t *s, const uint8_t *bits, int n, int *frame_ready)
{
    *frame_ready = 0;
    for (int i = 0; i < n; i++) {
        if (s->in_frame && i + 8 <= n) {
            /* eight bits of a frame with no inserted 0, flag or abort in
               them (most of a frame's octets): taken as they are */
            unsigned v = 0;
            for (int k = 0; k < 8; k++)
                v |= (unsigned) (bits[i + k] != 0) << k;
            unsigned runs = octet_runs[v];
            if (RUN_LONGEST(runs) < 5 && s->ones + (int) RUN_FIRST(runs) < 5) {
                if (s->ones)
                    rx_append(s, (1u << s->ones) - 1, s->ones);
                /* the 0 that ended the 1s before, and the octet up to its
                   last 0: data; its last 1s are counted, as one at a time */
                int last = (int) RUN_LAST(runs);
                rx_append(s, v & ((1u << (8 - last)) - 1), 8 - last);
                s->ones = last;
                i += 7;
                continue;
            }
        }
        if (bits[i]) {
            s->ones++;
            if (s->ones == 7) {
                /* Abort: whatever frame was open is discarded. */
                if (s->in_frame && (s->nbytes > 0 || s->nacc > 1))
                    s->aborts++;
                s->in_frame = 0;
                s->flag_run = 0;
                s->framing_ok = 0;
            } else if (s->ones == 15) {
                s->idle = 1;
            }
            continue;
        }
        /* a 0 ends the run of 1s */
        int ones = s->ones;
        s->ones = 0;
        if (ones == 6) {
            int report = rx_close_frame(s);
            s->in_frame = 1;
            s->idle = 0;
            if (s->flag_run < 1000000)
                s->flag_run++;
            if (s->flag_run >= s->framing_ok_threshold)
                s->framing_ok = 1;
            rx_new_frame(s);
            if (report) {
                *frame_ready = 1;
                return i + 1;
            }
            continue;
        }
        if (ones >= 7) {
            s->idle = 0;
            continue;        /* end of an abort or idle run: still hunting */
        }
        if (!s->in_frame)
            continue;
        if (ones == 5) {
            rx_append(s, 0x1F, 5);      /* the 0 was inserted: drop it */
        } else {
            if (ones)
                rx_append(s, (1u << ones) - 1, ones);
            rx_append(s, 0, 1);
        }
    }
    return n;
}
