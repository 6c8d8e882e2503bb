/* dsp_state.h: the one start of every modem state's lifecycle.
 *
 * As spandsp's X_init(s, ...) does, a modem's init takes memory the caller
 * owns (embedded in a wrapper, on the stack) or, given NULL, allocates it and
 * records that in the state's `allocated` field, so that X_free releases only
 * what init allocated.  No Python API.
 */
#ifndef DSP_STATE_H
#define DSP_STATE_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* `s` (caller memory) or, when NULL, a new block of `size` octets: zeroed,
 * with the int at `allocated_at` (offsetof the state's `allocated`) saying
 * which.  NULL only when the allocation fails. */
static inline void *dsp_state_claim(void *s, size_t size, size_t allocated_at)
{
    int allocated = s == NULL;
    if (allocated && (s = malloc(size)) == NULL)
        return NULL;
    memset(s, 0, size);
    memcpy((char *) s + allocated_at, &allocated, sizeof allocated);
    return s;
}

#endif
