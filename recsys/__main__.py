"""``python -m recsys`` → :func:`recsys.cli.main`.

Once the command has printed its result, the process ends without the interpreter's
teardown of torch and the loaded models (about a second on 2 cores): nothing is left to
write — output is flushed first, and caches are written atomically by the stages.
"""

import os
import sys

from recsys.cli import main

status = main()
for stream in (sys.stdout, sys.stderr):
    try:
        stream.flush()
    except (BrokenPipeError, ValueError):  # the reader went away (e.g. `| head`)
        pass
os._exit(status)
