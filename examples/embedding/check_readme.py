#!/usr/bin/env python3
"""Fails unless README.md contains examples/embedding/main.cpp verbatim as a
```cpp code block, so the example the README shows is the one the tests run."""
import re
import sys

readme, example = (open(path, encoding="utf-8").read() for path in sys.argv[1:3])
blocks = re.findall(r"```cpp\n(.*?)```", readme, flags=re.S)
if example not in blocks:
    sys.exit("README.md does not show examples/embedding/main.cpp verbatim in a ```cpp block")
print("README example matches examples/embedding/main.cpp")
