"""faxengine.line: models of a telephone line, for tests, benchmarks and the
simulated network.

``Line`` chains gain, carrier offset, clock drift, a telephone-band filter,
a distorting channel (M.1020's limits, V.56bis's test channels:
``channel.py``), impulse noise (``impulse.py``), white Gaussian noise and a
G.711 round trip, block by block with state carried across blocks
(``faxengine/line/model.py`` says how each works).  ``Hybrid`` (``echo.py``)
adds a terminal's own signal back to what it hears, as a 2-wire hybrid does.
Nonsense parameters raise ``LineError`` (a ``FaxError`` and ``ValueError``).
Levels are in dBm0, 0 dBm0 being 3.14 dB below a full-scale sine
(``DBM0_FULL_SCALE_SINE``, G.711); SNR is the power of the signal while on
over that of noise over the whole 0–4000 Hz band (``level.py``).

    from faxengine import line
    ch = line.Line(offset_hz=7, drift_ppm=-100, g711="alaw", noise_dbm0=-45, seed=1)
    heard = ch.process(sent)
    noisy = line.add_noise(sent, snr_db=20)
    worst = line.Line(channel="v56bis-ad9-edd3", impulse_rate_hz=0.5, impulse_dbm0=-20)
    hybrid = line.Hybrid(return_loss_db=10, delay_ms=40)
    heard = hybrid.process(far_end, own_sent)      # the far end plus our own echo
"""
from faxengine.g711 import (alaw_decode, alaw_encode, g711_roundtrip, ulaw_decode,
                                 ulaw_encode)
from faxengine.line.level import (DBM0_FULL_SCALE_SINE, DBM0_REF_POWER, dbm0_to_power,
                                  noise_dbm0_for_snr, on_power_dbm0, power_dbm0)
from faxengine.line.channel import CHANNELS, Channel
from faxengine.line.echo import Hybrid
from faxengine.line.errors import LineError
from faxengine.line.impulse import ImpulseNoise
from faxengine.line.model import Line, add_noise, butterworth_sos, telephone_band_sos

__all__ = [
    "Line", "add_noise", "g711_roundtrip", "noise_dbm0_for_snr", "power_dbm0", "on_power_dbm0",
    "dbm0_to_power", "DBM0_FULL_SCALE_SINE", "DBM0_REF_POWER", "alaw_encode", "alaw_decode",
    "ulaw_encode", "ulaw_decode", "butterworth_sos", "telephone_band_sos", "LineError",
    "Channel", "CHANNELS", "Hybrid", "ImpulseNoise",
]
