/* Test helper: libspandsp's T.30 as the reference peer for the protocol
   bytes of faxengine.t30, no audio involved (tests/t30/test_t30_spandsp.py).

   spandsp_t30 dis MODEMS COMPRESSIONS RESOLUTIONS SIZES ECM
       prints the DIS frame (address, control, FCF, FIF) spandsp's answering
       terminal sends, in hex, given its T30_SUPPORT_* masks.
   spandsp_t30 decode HEX
       prints spandsp's decoding (t30_decode_dis_dtc_dcs) of the frame HEX.
   spandsp_t30 answer RXFILE HEX...
       an answering spandsp (receiver, all modems, ECM) hears the frames HEX
       after its DIS; prints every frame it sends ("tx HEX") and every modem
       it sets its receiver or transmitter to ("rx_type M RATE", "tx_type M RATE").
   spandsp_t30 call TXFILE HEX...
       a calling spandsp sending TXFILE hears the frames HEX (a DIS); prints
       the same.
   spandsp_t30 script answer|call|polled FILE < SCRIPT
       drives spandsp's terminal by the lines of SCRIPT: "hdlc HEX" (a good
       frame), "hdlcstatus N" / "bitstatus N" (a SIG_STATUS_* event on the
       HDLC or non-ECM receiver), "zeros N" (N zero octets of non-ECM data,
       e.g. TCF), "chunk HEX" (non-ECM data, octets LSB first), "getdata" (print "data HEX" lines of the non-ECM data it
       sends, TCF or a page, octets LSB first, until it ends), "step" (the transmitter finished what it was sending), "time N" (N
       samples pass: t30_timer_update),
       "end" (t30_terminate), "log" (spandsp's flow log on); prints what it sends as above and "phase_e N"
       with its completion code.  "polled" answers with FILE ready to be
       polled (DIS bit 9).  Its identity (TSI or CSI) is
       "+44 20 7946 0000" when calling and "+1 555 0199" when answering. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <spandsp.h>

static int unhex(const char *hex, uint8_t *buf, int max);
static void on_log(int level, const char *text);

static int got_dis = 0;
static int print_all = 0;

static void on_hdlc(void *user_data, const uint8_t msg[], int len)
{
    (void) user_data;
    if (msg == NULL || len < 3)
        return;
    if (print_all || (!got_dis && (msg[2] & 0xFE) == 0x80)) {
        printf(print_all ? "tx " : "");
        for (int i = 0; i < len; i++)
            printf("%02x", msg[i]);
        printf("\n");
    }
    if ((msg[2] & 0xFE) == 0x80)
        got_dis = 1;
}

static void on_rx_type(void *user_data, int type, int bit_rate, int short_train, int use_hdlc)
{
    (void) user_data; (void) short_train; (void) use_hdlc;
    if (print_all)
        printf("rx_type %d %d\n", type, bit_rate);
}

static void on_tx_type(void *user_data, int type, int bit_rate, int short_train, int use_hdlc)
{
    (void) user_data; (void) short_train; (void) use_hdlc;
    if (print_all)
        printf("tx_type %d %d\n", type, bit_rate);
}

static void on_phase_e(t30_state_t *s, void *user_data, int completion_code)
{
    (void) s; (void) user_data;
    printf("phase_e %d\n", completion_code);
}

static void run_script(t30_state_t *s)
{
    char line[1024];
    uint8_t buf[512];
    while (fgets(line, sizeof(line), stdin)) {
        char cmd[32], arg[1000] = "";
        if (sscanf(line, "%31s %999s", cmd, arg) < 1)
            continue;
        if (strcmp(cmd, "hdlc") == 0) {
            int len = unhex(arg, buf, (int) sizeof(buf));
            t30_hdlc_accept(s, buf, len, 1);
        } else if (strcmp(cmd, "hdlcstatus") == 0) {
            t30_hdlc_accept(s, NULL, atoi(arg), 1);
        } else if (strcmp(cmd, "bitstatus") == 0) {
            t30_non_ecm_put_bit(s, atoi(arg));
        } else if (strcmp(cmd, "chunk") == 0) {
            int len = unhex(arg, buf, (int) sizeof(buf));
            t30_non_ecm_put_chunk(s, buf, len);
        } else if (strcmp(cmd, "zeros") == 0) {
            memset(buf, 0, sizeof(buf));
            for (int n = atoi(arg); n > 0; n -= (int) sizeof(buf))
                t30_non_ecm_put_chunk(s, buf, n < (int) sizeof(buf) ? n : (int) sizeof(buf));
        } else if (strcmp(cmd, "step") == 0) {
            t30_front_end_status(s, T30_FRONT_END_SEND_STEP_COMPLETE);
        } else if (strcmp(cmd, "getdata") == 0) {
            /* what the non-ECM transmitter sends (TCF, a page) until it ends */
            int len;
            do {
                len = t30_non_ecm_get_chunk(s, buf, 256);
                printf("data ");
                for (int i = 0; i < len; i++)
                    printf("%02x", buf[i]);
                printf("\n");
            } while (len == 256);
        } else if (strcmp(cmd, "time") == 0) {
            t30_timer_update(s, atoi(arg));
        } else if (strcmp(cmd, "end") == 0) {
            t30_terminate(s);
        } else if (strcmp(cmd, "log") == 0) {
            logging_state_t *log = t30_get_logging_state(s);
            span_log_set_level(log, SPAN_LOG_FLOW);
            span_log_set_message_handler(log, on_log);
        }
        fflush(stdout);
    }
}

static void on_log(int level, const char *text)
{
    (void) level;
    fputs(text, stdout);
}

static int unhex(const char *hex, uint8_t *buf, int max)
{
    int len = 0;
    for (const char *p = hex; p[0] && p[1] && len < max; p += 2) {
        unsigned int v;
        if (sscanf(p, "%2x", &v) != 1)
            break;
        buf[len++] = (uint8_t) v;
    }
    return len;
}

static void hear(t30_state_t *s, int argc, char *argv[], int first)
{
    uint8_t buf[300];
    for (int i = first; i < argc; i++) {
        int len = unhex(argv[i], buf, (int) sizeof(buf));
        printf("rx %s\n", argv[i]);
        t30_hdlc_accept(s, buf, len, 1);
    }
    t30_front_end_status(s, T30_FRONT_END_RECEIVE_COMPLETE);
    for (int i = 0; i < 4; i++)
        t30_front_end_status(s, T30_FRONT_END_SEND_STEP_COMPLETE);
}

int main(int argc, char *argv[])
{
    int scripted = (argc == 4 && strcmp(argv[1], "script") == 0);
    int calling = scripted ? strcmp(argv[2], "call") == 0
                           : (argc >= 3 && strcmp(argv[1], "call") == 0);
    int sending = calling || (scripted && strcmp(argv[2], "polled") == 0);
    t30_state_t *s = t30_init(NULL, calling, on_rx_type, NULL, on_tx_type, NULL, on_hdlc, NULL);
    if (s == NULL)
        return 2;
    if (argc == 7 && strcmp(argv[1], "dis") == 0) {
        t30_set_supported_modems(s, (int) strtol(argv[2], NULL, 0));
        t30_set_supported_compressions(s, (int) strtol(argv[3], NULL, 0));
        t30_set_supported_resolutions(s, (int) strtol(argv[4], NULL, 0));
        t30_set_supported_image_sizes(s, (int) strtol(argv[5], NULL, 0));
        t30_set_ecm_capability(s, (int) strtol(argv[6], NULL, 0));
        t30_set_rx_file(s, "/dev/null", -1);
        t30_restart(s);
        for (int i = 0; i < 10 && !got_dis; i++)
            t30_front_end_status(s, T30_FRONT_END_SEND_STEP_COMPLETE);
        return got_dis ? 0 : 1;
    }
    if (argc == 3 && strcmp(argv[1], "decode") == 0) {
        uint8_t buf[256];
        int len = unhex(argv[2], buf, (int) sizeof(buf));
        logging_state_t *log = t30_get_logging_state(s);
        span_log_set_level(log, SPAN_LOG_FLOW);
        span_log_set_message_handler(log, on_log);
        t30_decode_dis_dtc_dcs(s, buf, len);
        return 0;
    }
    if (scripted || (argc >= 3 && (calling || strcmp(argv[1], "answer") == 0))) {
        print_all = 1;
        t30_set_supported_modems(s, T30_SUPPORT_V27TER | T30_SUPPORT_V29 | T30_SUPPORT_V17);
        t30_set_supported_compressions(s, T30_SUPPORT_T4_1D_COMPRESSION
                                          | T30_SUPPORT_T4_2D_COMPRESSION
                                          | T30_SUPPORT_T6_COMPRESSION);
        t30_set_ecm_capability(s, 1);
        const char *file = argv[scripted ? 3 : 2];
        if (scripted)
            t30_set_tx_ident(s, calling ? "+44 20 7946 0000" : "+1 555 0199");
        if (sending)
            t30_set_tx_file(s, file, -1, -1);
        else
            t30_set_rx_file(s, file, -1);
        t30_set_phase_e_handler(s, on_phase_e, NULL);
        t30_restart(s);
        if (scripted) {
            run_script(s);
            return 0;
        }
        for (int i = 0; i < 4; i++)
            t30_front_end_status(s, T30_FRONT_END_SEND_STEP_COMPLETE);
        hear(s, argc, argv, 3);
        return 0;
    }
    fprintf(stderr, "usage: see the comment at the top of spandsp_t30.c\n");
    return 2;
}
