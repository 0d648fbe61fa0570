"""python -m hpcladder.talk_c WORKLOAD --cc CC --level LEVEL [protocol options]: see __init__.py."""
import sys

from . import main

sys.exit(main())
