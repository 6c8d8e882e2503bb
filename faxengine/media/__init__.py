"""faxengine.media: the audio ports that carry a terminal's samples (RTP/SIP, pacing, jitter buffers).

A ``FaxTerminal`` is sans-I/O; something must hand it the samples it hears
and take the samples it sends, block by block: ``pump`` is the one block
loop every adapter shares (with fill-in for lost blocks).
"""
