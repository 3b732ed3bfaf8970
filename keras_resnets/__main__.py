"""Run the `keras-resnets` command as `python -m keras_resnets`."""

import sys

from keras_resnets.cli import main

if __name__ == "__main__":
    sys.exit(main())
