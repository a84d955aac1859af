"""Privacy (個人情報保護法): deleting a customer on request and the suppression list."""

from tokui.privacy.erase import CustomerNotFoundError, ErasureResult, delete_customer
from tokui.privacy.suppression import (
    SuppressionChecker,
    is_suppressed,
    list_suppressions,
    load_checker,
)

__all__ = [
    "CustomerNotFoundError",
    "ErasureResult",
    "SuppressionChecker",
    "delete_customer",
    "is_suppressed",
    "list_suppressions",
    "load_checker",
]
