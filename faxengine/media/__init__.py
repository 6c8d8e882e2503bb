"""faxengine.media: the audio ports that carry a terminal's samples (RTP/SIP, pacing, jitter buffers)."""
