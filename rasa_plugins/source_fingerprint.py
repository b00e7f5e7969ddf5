"""Fingerprints of source code, so that Rasa's training cache notices a change of code.

Rasa's cache keys a trained component by its class name, config and inputs, not by its code: without
this, `rasa train` after a change to the tokenizer or the classifier would quietly restore the old
model from `.rasa/cache`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import ModuleType


def of_modules(*modules: ModuleType, data: tuple[Path, ...] = ()) -> str:
    """A digest of the source files of the given modules, and of data files they read."""
    digest = hashlib.sha256()
    for path in [*(Path(str(module.__file__)) for module in modules), *data]:
        digest.update(path.read_bytes())
    return digest.hexdigest()
