import sys

from faxengine.cli import main

sys.exit(main())
