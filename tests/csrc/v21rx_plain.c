/* v21rx_plain.c: csrc/v21rx.c once more, built without its SSE2 code (the
 * plain C of every step) and under other names, so v21rx_paths_test.c can
 * run both receivers side by side on the same samples. */
#undef __SSE2__
#define v21rx_state_size v21rx_plain_state_size
#define v21rx_init v21rx_plain_init
#define v21rx_restart v21rx_plain_restart
#define v21rx_free v21rx_plain_free
#define v21rx_power v21rx_plain_power
#define v21rx_rx v21rx_plain_rx
#define v21rx_rx_fillin v21rx_plain_rx_fillin
#include "v21rx.c"
