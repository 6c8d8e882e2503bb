/* Telephone-band filter of the line model: a cascade of second-order IIR
 * sections (biquads, direct form II transposed), state carried across blocks.
 * The coefficients are designed by the Python side (faxengine/line/model.py,
 * Butterworth sections by the bilinear transform); this file only runs them.
 */
#ifndef FAXENGINE_LINE_FILTER_H
#define FAXENGINE_LINE_FILTER_H

#define LINE_BIQUADS_MAX 16

typedef struct {
    int sections;
    double b[LINE_BIQUADS_MAX][3];  /* numerator b0 b1 b2 */
    double a[LINE_BIQUADS_MAX][2];  /* denominator a1 a2 (a0 = 1) */
    double z[LINE_BIQUADS_MAX][2];  /* state of each section */
} line_biquads_state_t;

/* sos: sections rows of b0 b1 b2 a0 a1 a2 (scipy's layout); returns 0, or -1
 * if there are too many sections or an a0 is zero. */
int line_biquads_init(line_biquads_state_t *s, const double *sos, int sections);
void line_biquads_free(line_biquads_state_t *s);
/* Filter len samples of in into out (may be the same buffer); returns len. */
int line_biquads_process(line_biquads_state_t *s, const double *in, double *out, int len);

#endif
