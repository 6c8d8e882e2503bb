/*
 * tone.h: the tones of T.30 §4 and V.25: generation and detection.
 *
 * CNG, the calling tone (T.30 §4.1.1): 1100 Hz ± 38 Hz, 0.5 s on, 3 s off.
 * CED, the called station's answer tone (T.30 §4.2, V.25): 2100 Hz ± 15 Hz
 * for 2.6 to 4.0 s.
 *
 * Generator: one tone with a cadence of optional leading silence, on time,
 * off time, repeated or not; the phasor rotates sample by sample and each
 * burst starts and ends with a short linear ramp (no clicks, no splatter).
 *
 * Detector: the Goertzel algorithm over blocks of TONE_BLOCK samples (10 ms)
 * measures the power at a few frequencies and the block's total power.  A
 * block holds a tone when its power is above TONE_MIN_LEVEL and the bins of
 * that tone carry at least a set fraction of it (1.0 for a pure tone; speech
 * and modem signals spread their power and fall far short).  CNG and CED
 * are each measured at three bins (nominal and ±30 Hz, taking the best) so
 * the tolerance of the standards costs nothing; V.21 channel 2 is the sum of
 * five bins 100 Hz apart (orthogonal over 10 ms) from 1550 to 1950 Hz.  A tone is reported
 * once it has held for its qualifying time, gaps of up to TONE_MAX_GAP blocks
 * bridged (so phase reversals of an answer tone do not cut it), and its end
 * is reported when it stops.
 */
#ifndef FAXENGINE_TONE_H
#define FAXENGINE_TONE_H

#include <stddef.h>
#include <stdint.h>

#define TONE_SAMPLE_RATE 8000
#define TONE_RAMP_SAMPLES 16

typedef struct {
    double re, im;          /* phasor */
    double step_re, step_im;
    double amp;             /* peak, int16 units */
    int64_t pre;            /* leading silence, samples */
    int64_t on, off;        /* cadence, samples */
    int repeat;
    int64_t t;              /* samples generated */
    int allocated;          /* tone_gen_init allocated the state: tone_gen_free frees it */
} tone_gen_state_t;

/* The lifecycle every modem of csrc/ has (spandsp's *_init/_restart/_free),
   for the generator and the detector alike: init sets up caller memory s
   (*_state_size() bytes), or with s NULL allocates it, and returns s (NULL
   when out of memory); restart takes it back to its start in the same
   memory (the cadence from its beginning; no tone heard); free releases
   what init allocated and returns 0. */
size_t tone_gen_state_size(void);
tone_gen_state_t *tone_gen_init(tone_gen_state_t *s, double freq, double amp,
                                int64_t pre, int64_t on, int64_t off, int repeat);
void tone_gen_restart(tone_gen_state_t *s);
int tone_gen_free(tone_gen_state_t *s);
/* Write len samples; returns len. */
int tone_gen(tone_gen_state_t *s, int16_t *amp, int len);
/* 1 once a non-repeating cadence has been sent in full. */
int tone_gen_done(const tone_gen_state_t *s);

enum { TONE_CNG = 0, TONE_CED = 1, TONE_V21 = 2, TONE_KINDS = 3 };

#define TONE_BLOCK 80
#define TONE_MAX_GAP 2
#define TONE_BINS 11

typedef struct {
    int kind;
    int end;                /* 0: the tone qualified; 1: it stopped */
    int64_t start_sample;   /* first sample of the tone */
    int64_t end_sample;     /* one past its last sample (end events) */
} tone_event_t;

typedef struct {
    double coef[TONE_BINS];
    double s1[TONE_BINS], s2[TONE_BINS];
    double energy;
    int n;                  /* samples in the current block */
    int64_t t;              /* samples processed */
    double min_energy;      /* block energy of a signal at the minimum level */
    double min_ratio[TONE_KINDS];
    int qualify_blocks[TONE_KINDS];
    /* per kind: run of blocks with the tone */
    int run[TONE_KINDS];
    int gap[TONE_KINDS];
    int reported[TONE_KINDS];
    int64_t start[TONE_KINDS];
    int64_t last[TONE_KINDS];    /* one past the last block with the tone */
    int allocated;          /* tone_det_init allocated the state: tone_det_free frees it */
} tone_det_state_t;

/* min_power: mean square (int16 units) a block needs; qualify_ms per kind. */
size_t tone_det_state_size(void);
tone_det_state_t *tone_det_init(tone_det_state_t *s, double min_power, const int qualify_ms[TONE_KINDS]);
void tone_det_restart(tone_det_state_t *s);
int tone_det_free(tone_det_state_t *s);
/* Events len samples can cause at most (one per kind per block). */
#define TONE_DET_MAX_EVENTS(len) (TONE_KINDS * ((len) / TONE_BLOCK + 1))
/* Process len samples, write events; returns how many. */
int tone_det_rx(tone_det_state_t *s, const int16_t *amp, int len, tone_event_t *events);
/* 1 while a reported tone of this kind lasts. */
int tone_det_present(const tone_det_state_t *s, int kind);

#endif
