/* The Kaiser window, shared by the FIR designs of the line model (the
 * Hilbert transformer of line_shift.c, the interpolator of line_resample.c). */
#ifndef FAXENGINE_LINE_KAISER_H
#define FAXENGINE_LINE_KAISER_H

#define LINE_PI 3.141592653589793238462643

/* Kaiser window of parameter beta at r in [-1, 1] (0 at the centre), 0 outside. */
double line_kaiser(double r, double beta);

#endif
