"""PDF downloads and multipart uploads (path, bytes, file object) with filename and content type."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from wise_async import APIStatusError, InvalidRequestError, NotFoundError, WiseClient
from wise_async.files import Upload, sniff_content_type
from wise_async.testing import FakeWise
from wise_async.testing._routes_files import parse_multipart

PDF = b"%PDF-1.7\n% a document\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"


# ----------------------------------------------------------------------------- PDFs


async def test_transfer_pdfs_are_bytes(fake: FakeWise, wise: WiseClient) -> None:
    (transfer,) = fake.seed_transfers(1, source_currency="USD", target_currency="INR")
    for download in (wise.files.transfer_receipt, wise.files.us_combined_receipt, wise.files.noc):
        content = await download(transfer)
        assert isinstance(content, bytes) and content.startswith(b"%PDF-")
        assert str(transfer).encode() in content
    assert [r.operation_id for r in fake.requests] == [
        "transferReceiptGet",
        "transferUsCombinedReceiptGet",
        "transferNocGet",
    ]


async def test_a_missing_pdf_is_a_typed_error(fake: FakeWise, wise: WiseClient) -> None:
    (eur_transfer,) = fake.seed_transfers(1)
    with pytest.raises(NotFoundError):
        await wise.files.noc(eur_transfer)  # NOCs are for INR transfers only
    with pytest.raises(NotFoundError):
        await wise.files.transfer_receipt(1)


# ----------------------------------------------------------------------------- sources


async def test_upload_sources_settle_filename_and_content_type(tmp_path: Path) -> None:
    path = tmp_path / "passport.jpeg"
    path.write_bytes(JPEG)
    assert await Upload.of(path) == Upload("passport.jpeg", JPEG, "image/jpeg")
    assert await Upload.of(str(path)) == Upload("passport.jpeg", JPEG, "image/jpeg")
    assert await Upload.of(PNG) == Upload("upload.png", PNG, "image/png")
    assert await Upload.of(bytearray(PDF)) == Upload("upload.pdf", PDF, "application/pdf")
    assert await Upload.of(b"plain") == Upload("upload.bin", b"plain", "application/octet-stream")
    named = io.BytesIO(PDF)
    named.name = "/tmp/scans/statement.pdf"  # type: ignore[attr-defined]
    assert await Upload.of(named) == Upload("statement.pdf", PDF, "application/pdf")
    with path.open("rb") as handle:
        assert (await Upload.of(handle)).filename == "passport.jpeg"
    assert await Upload.of(PNG, filename="scan.jpg", content_type="image/png") == Upload(
        "scan.jpg", PNG, "image/png"
    )
    explicit = Upload("a.pdf", PDF, "application/pdf")
    assert await Upload.of(explicit) is not None
    assert (await Upload.of(explicit, filename="b.pdf")).filename == "b.pdf"
    with pytest.raises(InvalidRequestError, match="binary mode"):
        await Upload.of(io.StringIO("text"))  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError):
        await Upload.of(42)  # type: ignore[arg-type]
    assert sniff_content_type(b"GIF89a") is None
    assert "<5 bytes>" in repr(Upload("x", b"12345", "text/plain"))


# ----------------------------------------------------------------------------- uploads


async def test_verification_document_from_a_path(
    fake: FakeWise, wise: WiseClient, profile_id: int, tmp_path: Path
) -> None:
    path = tmp_path / "proof.png"
    path.write_bytes(PNG)
    await wise.files.upload_verification_document(profile_id, path, document_type="ADDRESS_PROOF")
    (upload,) = fake.uploads
    assert (upload.operation_id, upload.part_name, upload.filename, upload.content_type) == (
        "verificationUploadDocument",
        "files",
        "proof.png",
        "image/png",
    )
    assert upload.content == PNG
    assert upload.fields == {"documentType": "ADDRESS_PROOF"}


async def test_dispute_files_v4_and_v3(fake: FakeWise, wise: WiseClient, profile_id: int) -> None:
    file_id = await wise.files.upload_dispute_file(profile_id, io.BytesIO(JPEG), filename="till.jpg")
    old_id = await wise.files.upload_dispute_file(profile_id, PDF, api_version="v3")
    assert [u.file_id for u in fake.uploads] == [file_id, old_id]
    assert [(u.operation_id, u.part_name, u.filename, u.content_type) for u in fake.uploads] == [
        ("disputeFileUpload", "receipt", "till.jpg", "image/jpeg"),
        ("disputeFileUploadV3", "receipt", "upload.pdf", "application/pdf"),
    ]
    with pytest.raises(ValueError):
        await wise.files.upload_dispute_file(profile_id, PDF, api_version="v5")  # type: ignore[arg-type]


async def test_a_rejected_file_type_is_a_typed_error(
    fake: FakeWise, wise: WiseClient, profile_id: int
) -> None:
    with pytest.raises(APIStatusError) as caught:
        await wise.files.upload_dispute_file(profile_id, b"GIF89a...", filename="cat.gif")
    assert caught.value.status_code == 415
    assert fake.uploads == []


async def test_kyc_submission_data_is_a_json_string_part(
    fake: FakeWise, wise: WiseClient, profile_id: int
) -> None:
    (review,) = fake.seed_kyc_reviews(1)
    data = {
        "data": {"accountPurpose": "SENDING_MONEY_TO_FRIENDS_OR_FAMILY"},
        "version": "V1",
        "kycReviewId": review,
    }
    await wise.files.submit_kyc_requirement(
        profile_id, "ACCOUNT_PURPOSE", submission_data=data, files=[PDF, PNG]
    )
    record = fake.calls("kycReviewRequirementSubmit")[0]
    assert record.status == 202
    parts = parse_multipart(record.headers["content-type"], record.body)
    submission = parts[0]
    assert (submission.name, submission.filename, submission.content_type) == (
        "submissionData",
        None,
        "application/json",
    )
    assert json.loads(submission.content) == data
    assert [(p.name, p.filename, p.content_type) for p in parts[1:]] == [
        ("files", "upload.pdf", "application/pdf"),
        ("files", "upload.png", "image/png"),
    ]
    assert fake.kyc_reviews.record(review)["status"] == "PROCESSING"  # type: ignore[index]


async def test_kyc_submission_as_a_string_and_other_files_field(
    fake: FakeWise, wise: WiseClient, profile_id: int
) -> None:
    text = '{"data": {"annualIncome": "10000"}, "version": "V1"}'
    await wise.files.submit_kyc_requirement(
        profile_id,
        "INCOME",
        submission_data=text,
        files=[Upload("payslip.pdf", PDF, "application/pdf")],
        files_field="files[]",
    )
    record = fake.calls("kycReviewRequirementSubmit")[0]
    parts = parse_multipart(record.headers["content-type"], record.body)
    assert parts[0].content.decode() == text
    assert (parts[1].name, parts[1].filename) == ("files[]", "payslip.pdf")
    with pytest.raises(ValueError, match="not valid JSON"):
        await wise.files.submit_kyc_requirement(profile_id, "INCOME", submission_data="{oops")
    assert len(fake.calls("kycReviewRequirementSubmit")) == 1
