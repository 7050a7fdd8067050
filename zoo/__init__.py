"""bnn_lq.zoo: binary architectures, each ``(input_shape, num_classes, **options) -> Model``.

Every architecture module is imported here so that it registers itself. Modules
are added by listing them in ``_MODULES``.
"""

import importlib

from bnn_lq.zoo.registry import entries, get, names, register

__all__ = ["entries", "get", "names", "register"]

# One architecture family per module; each registers its builders on import.
_MODULES = ("mlp", "cnn", "binarynet", "alexnet", "vgg", "resnet", "xnornet", "birealnet",
            "larq_zoo_models", "mcu")

for _m in _MODULES:
    try:
        importlib.import_module(f"bnn_lq.zoo.{_m}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"bnn_lq.zoo.{_m}":
            raise
