"""One file per revision; 0001 makes every table of ``faxengine.gateway.store.models``."""
