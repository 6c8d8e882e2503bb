/* The Kaiser window: w(r) = I0(β·√(1 − r²)) / I0(β).  See line_kaiser.h. */
#include <math.h>

#include "line_kaiser.h"

/* Modified Bessel function of the first kind, order 0, by its power series
 * (converges fast for the β of a few units used here). */
static double bessel_i0(double x)
{
    double sum = 1.0, term = 1.0, q = x * x / 4.0;
    for (int k = 1; k < 60; k++) {
        term *= q / ((double) k * k);
        sum += term;
        if (term < sum * 1e-17)
            break;
    }
    return sum;
}

double line_kaiser(double r, double beta)
{
    if (r < -1.0 || r > 1.0)
        return 0.0;
    return bessel_i0(beta * sqrt(1.0 - r * r)) / bessel_i0(beta);
}
