"""Multipart bodies the generated models cannot express (imported on first use).

``kycReviewRequirementSubmit`` takes ``submissionData`` as a JSON *string*: the spec marks it
``format: application/json`` and Wise's own example sends that part with ``type=application/json``,
but the generated model sends every text part as ``text/plain``. The documents' part name is
configurable (``files`` in the spec; some of Wise's guides write ``files[]``).
"""

from __future__ import annotations

import attrs
from wise_api.models.kyc_review_requirement_submit_body import KycReviewRequirementSubmitBody
from wise_api.types import RequestFiles

__all__ = ["KycSubmissionBody"]

SUBMISSION_DATA_PART = "submissionData"
GENERATED_FILES_PART = "files"


@attrs.define
class KycSubmissionBody(KycReviewRequirementSubmitBody):
    files_field: str = GENERATED_FILES_PART

    def to_multipart(self) -> RequestFiles:
        parts: RequestFiles = []
        for name, part in super().to_multipart():
            if name == SUBMISSION_DATA_PART:
                parts.append((name, (None, part[1], "application/json")))
            elif name == GENERATED_FILES_PART:
                parts.append((self.files_field, part))
            else:
                parts.append((name, part))
        return parts
