"""Build the compiled kernels of faxengine.

Every Cython module ``faxengine/**/_*.pyx`` becomes an extension.  The C99
kernels it wraps are named on a line near the top of the ``.pyx``::

    # csrc: t4_t6_encode.c t4_t6_decode.c

so one fact (which C files a wrapper needs) lives in one place, beside the
code that needs it.  ``FAXENGINE_EXT=faxengine.t4._t4`` (comma separated,
shell patterns allowed) limits a build to some extensions, which helps while
one module is being worked on.
"""
import fnmatch
import glob
import os
import re

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
CSRC = "csrc"
CFLAGS = ["-O3", "-std=c99", "-fno-strict-aliasing", "-fno-math-errno", "-Wall", "-Wno-unused-function"]


def _csources(pyx):
    with open(pyx, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"#\s*csrc:\s*(.*)", line)
            if m:
                return [os.path.join(CSRC, name) for name in m.group(1).split()]
    return []


def extensions():
    only = [p for p in os.environ.get("FAXENGINE_EXT", "").split(",") if p]
    exts = []
    for pyx in sorted(glob.glob("faxengine/**/_*.pyx", recursive=True)):
        name = pyx[:-4].replace(os.sep, ".")
        if only and not any(fnmatch.fnmatch(name, p) for p in only):
            continue
        exts.append(
            Extension(
                name,
                [pyx] + _csources(pyx),
                # a changed kernel header rebuilds every wrapper (the .c files
                # are sources already, so they rebuild their own wrapper)
                depends=sorted(glob.glob(os.path.join(CSRC, "*.h"))),
                include_dirs=[CSRC, numpy.get_include()],
                extra_compile_args=CFLAGS,
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            )
        )
    return exts


setup(
    ext_modules=cythonize(
        extensions(),
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
        quiet=True,
    ),
)
