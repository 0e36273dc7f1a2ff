"""Type aliases shared by the package."""
import os
from typing import Union

#: a file-system path argument: ``str`` or any ``os.PathLike``
PathLike = Union[str, os.PathLike]
