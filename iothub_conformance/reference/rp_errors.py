"""The resource provider's errors: ARM16 ErrorDetails codes and the exception a handler raises to answer one."""

from __future__ import annotations

# ErrorDetails codes. The statuses are the contract's; the code names are the reference's choice, except the
# api-version ones (OBSERVED §4, Azure REST API guidelines).
MISSING_API_VERSION = "MissingApiVersionParameter"
UNSUPPORTED_API_VERSION = "UnsupportedApiVersionValue"
AUTHENTICATION_FAILED = "AuthenticationFailed"  # 401: no Authorization header
INVALID_TOKEN = "InvalidAuthenticationToken"  # 401: not the token this provider accepts
INVALID_CONTENT = "InvalidRequestContent"  # 400: the body cannot be read or a value is invalid
INVALID_NAME = "InvalidResourceName"  # 400: the hub name breaks the ARM16 pattern
BAD_REQUEST = "BadRequest"  # 400: anything else the provider cannot process
RESOURCE_NOT_FOUND = "ResourceNotFound"  # 404: no such hub, key, consumer group, job or operation
NOT_FOUND = "NotFound"  # 404: no such route
METHOD_NOT_ALLOWED = "MethodNotAllowed"  # 405
PRECONDITION_FAILED = "PreconditionFailed"  # 412
QUOTA_EXCEEDED = "QuotaExceeded"  # 403: a cap below (hubs, consumer groups) is reached
JOB_FAILED = "JobFailed"  # the error of a Failed export or import operation


class RpError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def invalid(message: str) -> RpError:
    return RpError(400, INVALID_CONTENT, message)
