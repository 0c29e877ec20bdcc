"""PDF downloads and multipart uploads.

Downloads (``application/pdf``): transferReceiptGet, transferUsCombinedReceiptGet, transferNocGet (INR
transfers only, as Wise issues NOCs for India).

Uploads (``multipart/form-data``), each recorded in ``fake.uploads``:

* verificationUploadDocument — parts ``files`` (JPEG, PNG or PDF, ≤ 10 MB) and ``documentType``; 204;
* disputeFileUpload / disputeFileUploadV3 — part ``receipt``; ``{"receipt": "<file id>"}``;
* kycReviewRequirementSubmit — ``submissionData`` (a JSON string: ``{data?, version, kycReviewId}``)
  and documents in ``files`` (or ``files[]``); 202.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._http import FakeResponse, Rejection, empty_response, errors_response, json_response
from ._routes_profiles import owned_profile
from ._routes_transfers import owned_transfer
from ._routing import Call, route
from ._seeds import UploadedFile

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["DOCUMENT_TYPES", "MAX_DOCUMENT_BYTES", "ROUTES", "Part", "parse_multipart"]

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DOCUMENT_TYPES = {"image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",), "application/pdf": (".pdf",)}
VERIFICATION_DOCUMENT_TYPES = frozenset(
    {
        "ADDRESS_PROOF",
        "BUSINESS_AUTH_REP_PROOF_BY_AUTH_LETTER",
        "ID_PROOF",
        "SOURCE_OF_WEALTH",
        "TRADING_ADDRESS_PROOF",
    }
)
KYC_FILE_FIELDS = ("files", "files[]")
_PARAM = re.compile(r';\s*([A-Za-z*]+)="([^"]*)"')


# ------------------------------------------------------------------------------- PDFs


def _pdf(kind: str, transfer_id: int) -> FakeResponse:
    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        + f"% FakeWise {kind} for transfer {transfer_id}\n".encode()
        + b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    disposition = f'attachment; filename="{kind}-{transfer_id}.pdf"'
    return FakeResponse(200, body, {"content-type": "application/pdf", "content-disposition": disposition})


@route("GET", "/v1/transfers/{transferId}/receipt.pdf", "transferReceiptGet", "user")
def transfer_receipt_get(fake: FakeWise, call: Call) -> FakeResponse:
    transfer = owned_transfer(fake, call, call.int_param("transferId"))
    return _pdf("receipt", transfer["id"])


@route("GET", "/v1/transfers/{transferId}/us-combined-receipt.pdf", "transferUsCombinedReceiptGet", "user")
def transfer_us_combined_receipt_get(fake: FakeWise, call: Call) -> FakeResponse:
    transfer = owned_transfer(fake, call, call.int_param("transferId"))
    return _pdf("us-combined-receipt", transfer["id"])


@route("GET", "/v1/transfers/{transferId}/documents/noc", "transferNocGet", "user")
def transfer_noc_get(fake: FakeWise, call: Call) -> FakeResponse:
    transfer = owned_transfer(fake, call, call.int_param("transferId"))
    if transfer["targetCurrency"] != "INR":
        raise Rejection(errors_response(404, "NOT_FOUND", "No NOC for this transfer: it is not to INR."))
    return _pdf("noc", transfer["id"])


# ------------------------------------------------------------------------------- multipart


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str | None
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def parse_multipart(content_type: str, body: bytes) -> list[Part]:
    """The parts of a ``multipart/form-data`` body (a 415/400 Rejection when it is not one)."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise Rejection(errors_response(415, "UNSUPPORTED_MEDIA_TYPE", "Expected multipart/form-data."))
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    if found is None:
        raise Rejection(errors_response(400, "NOT_VALID", "multipart body without a boundary."))
    delimiter = b"--" + found.group(1).encode("latin-1")
    parts = []
    for section in body.split(delimiter)[1:]:
        if section.startswith(b"--"):
            break
        head, separator, content = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise Rejection(errors_response(400, "NOT_VALID", "Malformed multipart part."))
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        params = dict(_PARAM.findall(";" + headers.get("content-disposition", "").partition(";")[2]))
        if "name" not in params:
            raise Rejection(errors_response(400, "NOT_VALID", "Multipart part without a name."))
        parts.append(
            Part(
                name=params["name"],
                filename=params.get("filename"),
                content_type=headers.get("content-type"),
                content=content.removesuffix(b"\r\n"),
            )
        )
    return parts


def _document_problem(part: Part) -> FakeResponse | None:
    """Wise's checks on an uploaded document: type by content type and matching extension, size."""
    if len(part.content) > MAX_DOCUMENT_BYTES:
        return errors_response(413, "FILE_TOO_LARGE", "Documents can be up to 10MB.", part.name)
    media = (part.content_type or "").split(";")[0].strip().lower()
    if media not in DOCUMENT_TYPES:
        return errors_response(
            415, "UNSUPPORTED_FILE_TYPE", f"{media or 'no type'}: use JPEG, PNG or PDF.", part.name
        )
    if not (part.filename or "").lower().endswith(DOCUMENT_TYPES[media]):
        return errors_response(
            400, "NOT_VALID", f"File name {part.filename!r} does not match {media}.", part.name
        )
    return None


def _record(
    fake: FakeWise, call: Call, profile_id: int, parts: list[Part], file_parts: list[Part]
) -> list[str]:
    fields = {p.name: p.text for p in parts if p.filename is None}
    ids = []
    for part in file_parts:
        file_id = f"{fake._new_id('file'):x}"
        fake.uploads.append(
            UploadedFile(
                operation_id=call.route.operation_id,
                profile_id=profile_id,
                part_name=part.name,
                filename=part.filename,
                content_type=part.content_type,
                content=part.content,
                fields=fields,
                file_id=file_id,
            )
        )
        ids.append(file_id)
    return ids


@route(
    "POST",
    "/v3/profiles/{profileId}/verification-status/upload-document",
    "verificationUploadDocument",
    "user",
)
def verification_upload_document(fake: FakeWise, call: Call) -> FakeResponse:
    profile = owned_profile(fake, call, call.int_param("profileId"))
    parts = parse_multipart(call.request.headers.get("content-type", ""), call.request.body)
    files = [p for p in parts if p.name == "files" and p.filename is not None]
    document_type = next((p.text for p in parts if p.name == "documentType"), None)
    if not files:
        raise Rejection(errors_response(400, "NOT_VALID", "files is required.", "files"))
    if document_type not in VERIFICATION_DOCUMENT_TYPES:
        raise Rejection(
            errors_response(400, "NOT_VALID", f"Unknown documentType {document_type!r}.", "documentType")
        )
    for part in files:
        problem = _document_problem(part)
        if problem is not None:
            raise Rejection(problem)
    _record(fake, call, profile["id"], parts, files)
    return empty_response(204)


def _dispute_file_upload(fake: FakeWise, call: Call) -> FakeResponse:
    profile = owned_profile(fake, call, call.int_param("profileId"))
    parts = parse_multipart(call.request.headers.get("content-type", ""), call.request.body)
    receipts = [p for p in parts if p.name == "receipt" and p.filename is not None]
    if len(receipts) != 1:
        raise Rejection(errors_response(400, "NOT_VALID", "Exactly one receipt file is required.", "receipt"))
    problem = _document_problem(receipts[0])
    if problem is not None:
        raise Rejection(problem)
    (file_id,) = _record(fake, call, profile["id"], parts, receipts)
    return json_response(200, {"receipt": file_id})


@route("POST", "/v4/spend/profiles/{profileId}/dispute-form/file", "disputeFileUpload", "user")
def dispute_file_upload(fake: FakeWise, call: Call) -> FakeResponse:
    return _dispute_file_upload(fake, call)


@route("POST", "/v3/spend/profiles/{profileId}/dispute-form/file", "disputeFileUploadV3", "user")
def dispute_file_upload_v3(fake: FakeWise, call: Call) -> FakeResponse:
    return _dispute_file_upload(fake, call)


@route(
    "POST", "/v2/profiles/{profileId}/kyc-requirements/{requirementKey}", "kycReviewRequirementSubmit", "user"
)
def kyc_review_requirement_submit(fake: FakeWise, call: Call) -> FakeResponse:
    profile = owned_profile(fake, call, call.int_param("profileId"))
    parts = parse_multipart(call.request.headers.get("content-type", ""), call.request.body)
    submission = next((p for p in parts if p.name == "submissionData"), None)
    if submission is None:
        raise Rejection(errors_response(400, "NOT_VALID", "submissionData is required.", "submissionData"))
    try:
        data = json.loads(submission.text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("version"), str):
        raise Rejection(
            errors_response(
                400, "NOT_VALID", "submissionData must be a JSON object with a version.", "submissionData"
            )
        )
    review_id = data.get("kycReviewId")
    review = fake.kyc_reviews.record(str(review_id)) if review_id is not None else None
    if review_id is not None and (review is None or review["_profile_id"] != profile["id"]):
        raise Rejection(
            errors_response(404, "NOT_FOUND", f"KYC review {review_id} not found.", "kycReviewId")
        )
    files = [p for p in parts if p.name in KYC_FILE_FIELDS and p.filename is not None]
    for part in files:
        problem = _document_problem(part)
        if problem is not None:
            raise Rejection(problem)
    _record(fake, call, profile["id"], parts, files)
    if review is not None:
        review["_submissions"].append({"requirement": call.params["requirementKey"], "data": data})
        review["status"] = "PROCESSING"
    return empty_response(202)


ROUTES = [
    transfer_receipt_get,
    transfer_us_combined_receipt_get,
    transfer_noc_get,
    verification_upload_document,
    dispute_file_upload,
    dispute_file_upload_v3,
    kyc_review_requirement_submit,
]
