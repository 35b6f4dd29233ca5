"""V2's error envelope: ``{"type": "PAYMENT_NOT_FOUND", "message": "..."}`` with the HTTP status the OpenAPI
document lists for it (400 invalid input, 401 authentication, 403 another store, 404 unknown payment or
cancellation, 409 the payment's state refuses, 502 the PG refused)."""

from __future__ import annotations

import json

from fastapi.responses import Response

STATUS = {
    "INVALID_REQUEST": 400, "UNAUTHORIZED": 401, "FORBIDDEN": 403,
    "PAYMENT_NOT_FOUND": 404, "PAYMENT_CANCELLATION_NOT_FOUND": 404,
    "PAYMENT_NOT_PAID": 409, "PAYMENT_ALREADY_CANCELLED": 409, "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN": 409,
    "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT": 409, "SUM_OF_PARTS_EXCEEDS_CANCEL_AMOUNT": 409,
    "CANCEL_TAX_FREE_AMOUNT_EXCEEDS_CANCELLABLE_TAX_FREE_AMOUNT": 409,
    "PAYMENT_NOT_WAITING_FOR_DEPOSIT": 409, "PAYMENT_CANCELLATION_NOT_PENDING": 409,
    "PG_PROVIDER": 502,
}


class V2Error(Exception):
    def __init__(self, type_: str, message: str, **extra: object):
        super().__init__(message)
        self.type, self.message, self.extra = type_, message, extra

    @property
    def status(self) -> int:
        return STATUS.get(self.type, 400)


def error_response(type_: str, message: str, status: int | None = None, **extra: object) -> Response:
    body = {"type": type_, "message": message, **extra}
    return Response(json.dumps(body, ensure_ascii=False), status_code=status or STATUS.get(type_, 400),
                    media_type="application/json")


def json_response(doc: object, status: int = 200) -> Response:
    return Response(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), status_code=status,
                    media_type="application/json")
