"""The running gateway with its SIP line driver (`[line] driver = "sip"`): a
request mailed in is faxed in real time over SIP/RTP on 127.0.0.1 to our own
receiving fax machine (`FaxReceiver`, as `faxengine receive` runs it), and the
success mail comes back by POP3.  The simulated network is the default and is
tested in test_service.py; this is the same path through a real call.
"""
from __future__ import annotations

import asyncio
import threading

import numpy as np

from faxengine import tiff
from faxengine.gateway.results import SUCCESS_SUBJECT
from faxengine.media.call import FaxReceiver, SipEndpoint
from gateway_harness import InProcessGateway, mails_of, request, send, wait_for, write_config


class Receiver:
    """`FaxReceiver.serve(once=True)` on a thread with its own loop."""

    def __init__(self, out_dir) -> None:
        self.out_dir = out_dir
        self.results: list = []
        self.ready = threading.Event()
        self.address: tuple[str, int] | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        endpoint = await SipEndpoint.open(("127.0.0.1", 0), user="fax")
        try:
            self.address = endpoint.sip.local
            self.ready.set()
            self.results = await asyncio.wait_for(
                FaxReceiver(endpoint, self.out_dir).serve(once=True), 150)
        finally:
            self.ready.set()
            endpoint.close()

    def start(self) -> "Receiver":
        self.thread.start()
        assert self.ready.wait(30) and self.address, "the receiver did not start"
        return self


def test_a_mailed_request_is_faxed_over_sip_and_its_success_mail_comes_back(tmp_path):
    receiver = Receiver(tmp_path / "received").start()
    host, port = receiver.address
    config = write_config(tmp_path, driver="sip", retries=0,
                          extra=f'[line.sip]\nuri = "sip:{{number}}@{host}:{port}"\n')
    gw = InProcessGateway(config).start()
    try:
        send(gw.smtp, request("0921234567", subject="SIP経由"))
        (mail,) = wait_for(lambda: mails_of(gw) or None, "the result mail", 150, every=0.5)
    finally:
        gw.stop()
        receiver.thread.join(30)
    assert mail.subject == SUCCESS_SUBJECT, mail.body
    assert "送信先FAX番号:0921234567\n枚数:1 枚\n件名:SIP経由\n" in mail.body
    (result,) = receiver.results
    assert result.ok and result.fax.pages == 1
    # what the far end wrote is what the gateway rendered and kept for the history
    (image,) = (gw.data_dir / "images").glob("*.tif")
    sent, got = tiff.read(image), tiff.read(result.path)
    assert len(sent) == len(got) == 1
    assert np.array_equal(sent[0].image, got[0].image)
