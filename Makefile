# faxengine: set-up, build and test on a fresh Debian machine (run as root).
#   make test   install what is missing, build the extensions, run the suite
#   make run    install what is missing, build, run the main job
#   make bench  the side-by-side benchmarks and long sweeps
#   make docs   regenerate the figures and generated sections of docs/
#   make fuzz   coverage-guided fuzzing of every decoder and parser, bounded in time
# Every target is idempotent: what is already installed is not installed again.

PYTHON ?= python3
PIP := $(PYTHON) -m pip
# System packages: a C compiler for the kernels, libspandsp for the modem and
# T.30 interop tests, libtiff-tools (tiffinfo, tiffcp) for the TIFF tests,
# fonts for rendering text pages, sipp (sip-tester) for the SIP interop tests,
# PortAudio's headers for PyAudio (the sound-card port); kamailio (registrar and
# proxy: tm sl rr usrloc registrar auth htable, all in the base package) and
# baresip-core (its g711, aufile, sndfile, alsa, account and menu modules) for
# tests/media/test_kamailio.py and test_baresip.py; tshark (Wireshark's T.38 dissector) for tests/t38;
# the gateway: IPAexGothic and LibreOffice (rendering), postgresql (its tests' throwaway
# cluster), dovecot-pop3d and fetchmail (POP3 interop), chromium (the web admin in a browser).
APT_PACKAGES := gcc libc6-dev libspandsp-dev libtiff-tools fonts-dejavu-core sip-tester portaudio19-dev kamailio baresip-core tshark fonts-ipaexfont-gothic libreoffice-writer-nogui libreoffice-calc-nogui postgresql dovecot-pop3d fetchmail chromium wrk
PY_BUILD := "setuptools>=77" wheel "Cython>=3.0" "numpy>=1.24"

.PHONY: all deps sysdeps pydeps build test run bench docs fuzz clean

all: build

sysdeps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

pydeps: sysdeps
	@$(PYTHON) -c "import setuptools, Cython, numpy, wheel; \
	  assert int(setuptools.__version__.split('.')[0]) >= 77 and int(Cython.__version__.split('.')[0]) >= 3" \
	  2>/dev/null || $(PIP) install -q $(PY_BUILD)
	$(PIP) install -q --no-build-isolation -e ".[test]"

build: pydeps
	$(PYTHON) setup.py -q build_ext --inplace -j 2

deps: build

test: build
	$(PYTHON) -m pytest -m "not slow" -q tests

# The main job: the sample letter faxed between two of our terminals through
# the line model, then over SIP/RTP on 127.0.0.1 in real time (about 35 s):
# a receiver answering once, a sender calling it; both bounded by timeout.
# Then the mail-to-fax gateway on its demo configuration: samples/request.eml
# in by SMTP, the result mails out by POP3, printed (samples/gateway_demo.py).
SIP_DEMO := 127.0.0.1:5062
run: build
	$(PYTHON) -m faxengine loopback samples/letter.png --out build/letter-received.tif --g711 alaw --snr 30
	@mkdir -p build/sip-received
	@timeout 120 $(PYTHON) -m faxengine receive --listen $(SIP_DEMO) --out build/sip-received --once & \
	  rx=$$!; sleep 1; \
	  timeout 110 $(PYTHON) -m faxengine send samples/letter.png --to sip:fax@$(SIP_DEMO); tx=$$?; \
	  wait $$rx; rxs=$$?; [ $$tx -eq 0 ] && [ $$rxs -eq 0 ]
	$(PYTHON) samples/gateway_demo.py --config samples/gateway.toml --request samples/request.eml

bench: build
	$(PYTHON) -m pytest -q -s bench --benchmark-columns=min,mean,rounds
	$(PYTHON) -m pytest -q -m slow tests

# The figures and generated sections of docs/ (constellations, BER curves,
# state diagrams, call ladders), remade from the code.
docs: build
	$(PIP) install -q --no-build-isolation -e ".[docs]"
	$(PYTHON) docs/make_figures.py

# atheris for the Python targets, clang's libFuzzer for the C kernels;
# fuzz/run.sh runs each target 60 s (-t N to change) and fails on a finding.
fuzz: build
	@command -v clang >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang)
	@$(PYTHON) -c "import atheris" 2>/dev/null || $(PIP) install -q --no-build-isolation -e ".[fuzz]"
	PYTHON=$(PYTHON) fuzz/run.sh

clean:
	rm -rf build faxengine/**/*.so faxengine/**/*.c *.egg-info
