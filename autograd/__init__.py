"""chaingrad's autograd: a scalar engine (Value) and a tensor engine (Tensor) on one graph core.

See ``autograd/README.md`` for the design: the node protocol, how an op is
added, and how backward walks the graph.
"""
__version__ = "0.2.0"  # the one place the version is written (pyproject reads it)

from .anomaly import (
    AnomalyError,
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from .check import check_graph
from .gradcheck import GradcheckError, grad, gradcheck, numerical_grad, value_and_grad
from .graph import Context, Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import (
    Tensor,
    concatenate,
    get_default_dtype,
    maximum,
    minimum,
    set_default_dtype,
    stack,
    where,
)
from .transforms import hessian, hvp, jacobian, jvp, vjp
from .value import Value
from .viz import draw_dot

__all__ = [
    "Context", "Function", "GradcheckError", "Tensor", "Value", "check_graph", "concatenate",
    "draw_dot", "enable_grad",
    "get_default_dtype", "grad", "gradcheck", "hessian", "hvp", "is_grad_enabled", "jacobian",
    "jvp", "maximum", "minimum", "no_grad", "numerical_grad", "set_default_dtype", "set_grad_enabled",
    "stack", "value_and_grad", "vjp", "where",
    "AnomalyError", "detect_anomaly", "is_anomaly_check_nan_enabled", "is_anomaly_enabled",
    "set_detect_anomaly",
]
