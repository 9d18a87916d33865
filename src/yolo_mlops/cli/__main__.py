"""`python -m yolo_mlops.cli`, as the `yolo-mlops` script."""

import sys

from yolo_mlops.cli.main import main

sys.exit(main())
