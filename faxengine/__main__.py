"""``python -m faxengine``: the ``faxengine`` command (faxengine.cli)."""
import sys

try:
    from faxengine.cli import main
except KeyboardInterrupt:       # Ctrl-C while the modules load: no traceback either
    sys.exit(130)

sys.exit(main())
