"""``python3 -m faxengine.media.analyser CALL.wav [--out DIR] [--json] [--plot]``
(``faxengine decode`` once the command is wired)."""
import sys

from faxengine.media.analyser.cli import main

sys.exit(main())
