"""The API's envelope, errors as the live API sends them, and parameter parsing shared by every route."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import Response


def envelope(response=None, code: int = 0, message: str | None = None, status: int = 200) -> Response:
    body = json.dumps({"code": code, "message": message, "response": response},
                      ensure_ascii=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json")


def raw_envelope(response_json: str, status: int = 200) -> Response:
    return Response('{"code":0,"message":null,"response":' + response_json + "}",
                    status_code=status, media_type="application/json")


def error(message: str, status: int = 200, code: int = -1) -> Response:
    return envelope(None, code=code, message=message, status=status)


def gateway_page(status: int) -> Response:
    """What a load balancer in front of the API sends: an HTML page, not the API's envelope."""
    title = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable",
             504: "504 Gateway Time-out"}.get(status, f"{status} Error")
    return Response(f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center>"
                    "<hr><center>awselb/2.0</center></body></html>", status_code=status, media_type="text/html")


class ApiRefusal(Exception):
    def __init__(self, message: str, status: int = 200, code: int = 1):
        self.message, self.status, self.code = message, status, code


async def read_params(request: Request, status: int = 400) -> dict:
    """Body as JSON or form data (urlencoded or multipart), as the live API accepts."""
    ctype = request.headers.get("content-type", "")
    raw = await request.body()
    if not raw:
        return {}
    if "application/json" in ctype:
        try:
            data = json.loads(raw)
        except ValueError:
            raise ApiRefusal("요청 본문(JSON)을 해석할 수 없습니다.", status=status, code=-1)
        if not isinstance(data, dict):
            raise ApiRefusal("요청 본문은 JSON 객체여야 합니다.", status=status, code=-1)
        return data
    if "multipart/form-data" in ctype:
        form = await request.form()
        return {k: v for k, v in form.items()}
    parsed = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items()}


def as_int(value, name: str, *, required: bool = False, status: int = 400) -> int | None:
    """An integer parameter; a bad one is refused with ``status`` (200 where the spec documents no 400)."""
    if value is None or value == "":
        if required:
            raise ApiRefusal(f"{name} 파라미터가 누락되었습니다.", status=status, code=-1)
        return None
    if isinstance(value, bool):
        raise ApiRefusal(f"{name} 값이 올바르지 않습니다.", status=status, code=-1)
    if isinstance(value, (int, float)):
        if value != value or abs(value) >= 10**15 or float(value) != int(value):
            raise ApiRefusal(f"{name}은(는) 범위 안의 정수여야 합니다.", status=status, code=-1)
        return int(value)
    s = str(value).strip()
    if not re.fullmatch(r"-?\d{1,15}(\.0+)?", s):
        raise ApiRefusal(f"{name} 값이 올바르지 않습니다: {s[:40]}", status=status, code=-1)
    return int(float(s))


