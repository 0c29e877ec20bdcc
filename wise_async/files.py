"""Documents in and out of Wise (``wise.files``): PDF downloads and multipart uploads.

Downloads return the PDF's bytes::

    receipt = await wise.files.transfer_receipt(transfer_id)

Uploads take a path (``str`` or ``os.PathLike``), ``bytes``, a binary file object, or an :class:`Upload`
naming everything explicitly. The filename comes from the path or the file object's ``name`` (else
``upload.<ext>``), the content type from the filename's extension, else from the content's magic bytes
(PDF, PNG, JPEG), else ``application/octet-stream``; ``filename=`` and ``content_type=`` override both::

    await wise.files.upload_verification_document(profile_id, "passport.pdf", document_type="ID_PROOF")
    file_id = await wise.files.upload_dispute_file(profile_id, receipt_bytes, filename="receipt.png")
    await wise.files.submit_kyc_requirement(
        profile_id, "ACCOUNT_PURPOSE",
        submission_data={"data": {...}, "version": "V1", "kycReviewId": review_id},
    )

Every call goes through the generated facade, so auth, SCA, retries and typed errors apply. Files are
read into memory first (Wise caps documents at 10 MB) so a retried or SCA-approved request can be
sent again byte for byte.
"""

from __future__ import annotations

import importlib
import io
import json
import mimetypes
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, Union, cast, overload

import anyio
import attrs

from ._exceptions import APIResponseValidationError, InvalidRequestError
from ._namespace import Namespace

if TYPE_CHECKING:
    from typing_extensions import Unpack
    from wise_api.models.kyc_review_requirement_submit_requirement_key import (
        KycReviewRequirementSubmitRequirementKey,
    )
    from wise_api.models.verification_upload_document_body_document_type import (
        VerificationUploadDocumentBodyDocumentType,
    )
    from wise_api.types import File

    from ._client import WiseClient
    from ._namespace import NamespaceHost
    from ._options import RequestOptions
    from ._response import WiseResponse

__all__ = ["FileSource", "Files", "Upload", "sniff_content_type"]

FileSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes], "Upload"]
"""A path, the content itself, a binary file object, or an explicit :class:`Upload`."""

DEFAULT_CONTENT_TYPE = "application/octet-stream"
DISPUTE_FILE_PART = "receipt"
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
_EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


def sniff_content_type(content: bytes) -> str | None:
    """The type of the documents Wise accepts (PDF, PNG, JPEG) from their first bytes."""
    return next((kind for magic, kind in _MAGIC if content.startswith(magic)), None)


def _guess_from_name(filename: str) -> str | None:
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    return guessed


@attrs.frozen
class Upload:
    """One file part: name, content and content type, ready to send."""

    filename: str
    content: bytes = attrs.field(repr=lambda content: f"<{len(content)} bytes>")
    content_type: str

    @classmethod
    async def of(
        cls, source: FileSource, *, filename: str | None = None, content_type: str | None = None
    ) -> Upload:
        """Read ``source`` and settle its filename and content type (explicit arguments win)."""
        if isinstance(source, Upload):
            return attrs.evolve(
                source,
                filename=filename or source.filename,
                content_type=content_type or source.content_type,
            )
        name: str | None = None
        if isinstance(source, (bytes, bytearray, memoryview)):
            content = bytes(source)
        elif isinstance(source, (str, os.PathLike)):
            path = anyio.Path(os.fspath(source))
            content = await path.read_bytes()
            name = path.name
        elif hasattr(source, "read"):
            data = source.read()
            if not isinstance(data, bytes):
                raise InvalidRequestError("file objects must be opened in binary mode ('rb')")
            content = data
            raw_name = getattr(source, "name", None)
            if isinstance(raw_name, str) and raw_name:
                name = os.path.basename(raw_name)
        else:
            raise InvalidRequestError(
                f"cannot upload a {type(source).__name__}: give a path, bytes or a binary file"
            )
        sniffed = sniff_content_type(content)
        filename = filename or name or "upload" + _EXTENSIONS.get(sniffed or "", ".bin")
        content_type = content_type or _guess_from_name(filename) or sniffed or DEFAULT_CONTENT_TYPE
        return cls(filename=filename, content=content, content_type=content_type)

    def as_file(self) -> File:
        """The generated client's ``File`` for this part."""
        from wise_api.types import File

        return File(payload=io.BytesIO(self.content), file_name=self.filename, mime_type=self.content_type)


PathLike = Union[str, "os.PathLike[str]"]


class Files:
    """``wise.files``: transfer PDFs and the multipart uploads of the API."""

    def __init__(self, client: WiseClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return "Files()"

    # ------------------------------------------------------------------ PDFs
    # Each returns the PDF's bytes, or with ``to=`` streams it into that file (bounded memory, restarted
    # on a lost connection) and returns its path.

    @overload
    async def transfer_receipt(
        self, transfer_id: int, *, to: None = None, **options: Unpack[RequestOptions]
    ) -> bytes: ...
    @overload
    async def transfer_receipt(
        self, transfer_id: int, *, to: PathLike, **options: Unpack[RequestOptions]
    ) -> Path: ...
    async def transfer_receipt(
        self, transfer_id: int, *, to: PathLike | None = None, **options: Unpack[RequestOptions]
    ) -> bytes | Path:
        """The transfer's receipt PDF (``transferReceiptGet``)."""
        if to is not None:
            return await self._download(
                "transfer_receipt_get", "transferReceiptGet", to, transfer_id, options
            )
        return await self._client.transfers.receipt_get(transfer_id, **options)

    @overload
    async def us_combined_receipt(
        self, transfer_id: int, *, to: None = None, **options: Unpack[RequestOptions]
    ) -> bytes: ...
    @overload
    async def us_combined_receipt(
        self, transfer_id: int, *, to: PathLike, **options: Unpack[RequestOptions]
    ) -> Path: ...
    async def us_combined_receipt(
        self, transfer_id: int, *, to: PathLike | None = None, **options: Unpack[RequestOptions]
    ) -> bytes | Path:
        """The US combined disclosure receipt PDF (``transferUsCombinedReceiptGet``)."""
        if to is not None:
            return await self._download(
                "transfer_us_combined_receipt_get", "transferUsCombinedReceiptGet", to, transfer_id, options
            )
        return await self._client.transfers.us_combined_receipt_get(transfer_id, **options)

    @overload
    async def noc(self, transfer_id: int, *, to: None = None, **options: Unpack[RequestOptions]) -> bytes: ...
    @overload
    async def noc(self, transfer_id: int, *, to: PathLike, **options: Unpack[RequestOptions]) -> Path: ...
    async def noc(
        self, transfer_id: int, *, to: PathLike | None = None, **options: Unpack[RequestOptions]
    ) -> bytes | Path:
        """The non-objection certificate PDF of an INR transfer (``transferNocGet``)."""
        if to is not None:
            return await self._download("transfer_noc_get", "transferNocGet", to, transfer_id, options)
        return await self._client.transfers.noc_get(transfer_id, **options)

    async def _download(
        self, module: str, operation_id: str, to: PathLike, transfer_id: int, options: RequestOptions
    ) -> Path:
        op = importlib.import_module(f"wise_api.api.transfer.{module}")
        namespace = Namespace(cast("NamespaceHost", self._client))
        return await namespace._download(op, operation_id, to=to, options=options, transfer_id=transfer_id)

    # ------------------------------------------------------------------ uploads

    async def upload_verification_document(
        self,
        profile_id: int,
        file: FileSource,
        *,
        document_type: VerificationUploadDocumentBodyDocumentType | str,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> None:
        """Upload a verification document (``verificationUploadDocument``: parts ``files`` and
        ``documentType``). Wise takes JPEG, PNG or PDF up to 10 MB."""
        from wise_api.models.verification_upload_document_body import VerificationUploadDocumentBody
        from wise_api.models.verification_upload_document_body_document_type import (
            VerificationUploadDocumentBodyDocumentType,
        )

        upload = await Upload.of(file, filename=filename, content_type=content_type)
        body = VerificationUploadDocumentBody(
            files=upload.as_file(), document_type=VerificationUploadDocumentBodyDocumentType(document_type)
        )
        await self._client.verifications.upload_document(profile_id, body=body)

    async def upload_dispute_file(
        self,
        profile_id: int,
        file: FileSource,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        api_version: Literal["v4", "v3"] = "v4",
    ) -> str:
        """Upload a file for a dispute (part ``receipt``) and return its file id, valid for two hours.

        ``api_version="v3"`` uses the deprecated ``disputeFileUploadV3``.
        """
        upload = await Upload.of(file, filename=filename, content_type=content_type)
        raw = self._client.disputes.with_raw_response
        result: WiseResponse[Any]
        if api_version == "v4":
            from wise_api.models.dispute_file_upload_body import DisputeFileUploadBody

            result = await raw.file_upload(profile_id, body=DisputeFileUploadBody(receipt=upload.as_file()))
        elif api_version == "v3":
            from wise_api.models.dispute_file_upload_v3_body import DisputeFileUploadV3Body

            result = await raw.file_upload_v3(
                profile_id, body=DisputeFileUploadV3Body(receipt=upload.as_file())
            )
        else:
            raise InvalidRequestError(f"api_version must be 'v4' or 'v3', not {api_version!r:.20}")
        ids: Mapping[str, str] = result.parsed.additional_properties
        file_id = ids.get(DISPUTE_FILE_PART) or next(iter(ids.values()), None)
        if not file_id:
            raise APIResponseValidationError(
                result.http_response, "dispute file upload: the response has no file id"
            )
        return file_id

    async def submit_kyc_requirement(
        self,
        profile_id: int,
        requirement_key: KycReviewRequirementSubmitRequirementKey | str,
        *,
        submission_data: Mapping[str, Any] | str,
        files: Sequence[FileSource] = (),
        files_field: str = "files",
    ) -> None:
        """Submit a KYC requirement (``kycReviewRequirementSubmit``).

        ``submission_data`` (``{"data": ..., "version": "V1", "kycReviewId": ...}``) is sent as the JSON
        *string* Wise expects, in a part of type ``application/json``; a ``str`` must already be JSON.
        ``files`` are the documents some requirement types need (JPEG, PNG or PDF), sent as repeated
        ``files_field`` parts (``files``, as in the spec; some of Wise's guides write ``files[]``).
        """
        from wise_api.models.kyc_review_requirement_submit_requirement_key import (
            KycReviewRequirementSubmitRequirementKey,
        )
        from wise_api.types import UNSET

        from ._multipart import KycSubmissionBody

        if isinstance(submission_data, str):
            try:
                json.loads(submission_data)
            except ValueError as exc:
                raise InvalidRequestError(f"submission_data is not valid JSON: {exc}") from None
            text = submission_data
        else:
            text = json.dumps(submission_data, separators=(",", ":"), default=str)
        uploads = [await Upload.of(source) for source in files]
        body = KycSubmissionBody(
            submission_data=text,
            files=[u.as_file() for u in uploads] if uploads else UNSET,
            files_field=files_field,
        )
        await self._client.kyc_reviews.requirement_submit(
            profile_id, KycReviewRequirementSubmitRequirementKey(requirement_key), body=body
        )
