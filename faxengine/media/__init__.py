"""The media layer: what carries a terminal's samples to the other end.

A ``FaxTerminal`` is sans-I/O; something must hand it the samples it hears
and take the samples it sends, block by block.  That is this layer:
``pump`` (the one block loop every adapter shares, with fill-in for lost
blocks), and later the WAV file, sound card and RTP/SIP ports.
"""
