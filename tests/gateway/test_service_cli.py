"""``faxengine gateway`` as a user runs it: one line and status 2 for what stops it
at start; a second SIGINT hangs up the calls at once and exits 0 (SIGTERM during a
call: test_durability.py)."""
from __future__ import annotations

import signal
import socket
import sqlite3
import time

from faxengine.cli import main

from gateway_harness import GatewayProcess, request, send, wait_for, write_config


def test_a_port_in_use_is_one_line_and_status_2(tmp_path, capsys):
    path = write_config(tmp_path, fixed_ports=True)
    port = GatewayProcess(path, tmp_path / "unused.log").smtp
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        assert main(["gateway", "--config", str(path)]) == 2
    assert capsys.readouterr().err == \
        f"faxengine gateway: [smtp] listen: the SMTP intake cannot listen on " \
        f"127.0.0.1:{port}: Address already in use; give another address or port\n"


def test_a_data_dir_that_is_a_file_is_one_line_and_status_2(tmp_path, capsys):
    path = write_config(tmp_path)
    (tmp_path / "data").write_text("not a directory")
    assert main(["gateway", "--config", str(path)]) == 2
    assert capsys.readouterr().err == f"faxengine gateway: [gateway] data_dir: cannot make " \
                                      f"{tmp_path / 'data'} (File exists); give a directory " \
                                      f"the gateway may write\n"


def test_a_second_sigint_hangs_up_the_call_at_once(tmp_path):
    path = write_config(tmp_path, fixed_ports=True, realtime=True, stop_timeout="5m")
    gw = GatewayProcess(path, tmp_path / "gw.log").start()
    try:
        send(gw.smtp, request("0921234567", subject="二度"))
        db = tmp_path / "data" / "gateway.sqlite3"

        def status():
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as c:
                return [s for (s,) in c.execute("SELECT status FROM jobs")]

        wait_for(lambda: status() == ["送信中"], "a call in progress", 60)
        t0 = time.monotonic()
        gw.proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert gw.proc.poll() is None           # the first: the call may go on (5 min)
        gw.proc.send_signal(signal.SIGINT)
        assert gw.proc.wait(30) == 0
        assert time.monotonic() - t0 < 30
        assert status() == ["送信待ち"]          # requeued, sent at the next start
    finally:
        gw.close()
