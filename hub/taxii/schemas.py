"""TAXII 2.1 resources (OASIS TAXII 2.1, section 4 to 5) as pydantic models, for the OpenAPI document.

The views write these resources directly (object versions are pre-serialized
bytes); the models describe them and their query parameters, whose TAXII
names (``match[type]``) are pydantic aliases.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"


class TaxiiError(BaseModel):
    """A TAXII 2.1 error message (section 3.6.1), in application/taxii+json;version=2.1."""

    title: str
    description: str | None = None
    error_code: str | None = Field(default=None, description="The hub's problem slug (urn:tangkal:problem:<slug>).")
    http_status: str | None = None


class Discovery(BaseModel):
    """TAXII discovery: the hub's one API root."""

    title: str
    description: str | None = None
    default: str | None = None
    api_roots: list[str]


class ApiRoot(BaseModel):
    """The API root's information."""

    title: str
    description: str | None = None
    versions: list[str]
    max_content_length: int


class Collection(BaseModel):
    """The blocks collection: read-only."""

    id: str
    title: str
    description: str | None = None
    can_read: bool
    can_write: bool
    media_types: list[str]


class Collections(BaseModel):
    """The API root's collections."""

    collections: list[Collection]


class Envelope(BaseModel):
    """A page of STIX 2.1 objects."""

    more: bool = False
    next: str | None = Field(default=None, description="Opaque: pass it back as next= to go on from here.")
    objects: list[dict[str, Any]] | None = None


class ManifestRecord(BaseModel):
    id: str
    date_added: str
    version: str
    media_type: str


class Manifest(BaseModel):
    """A page of manifest records: one per object version."""

    more: bool = False
    next: str | None = None
    objects: list[ManifestRecord] | None = None


class Versions(BaseModel):
    """The versions of one object, oldest first."""

    more: bool = False
    next: str | None = None
    versions: list[str] | None = None


class _Query(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    added_after: str | None = Field(
        default=None, description="Only versions the hub accepted after this time (RFC 3339, Z)."
    )
    limit: int | None = Field(default=None, ge=1, description="At most this many (the hub answers at most 1000).")
    next: str | None = Field(default=None, description="The next token of the previous page.")


class ObjectsQuery(_Query):
    match_type: str | None = Field(
        default=None, alias="match[type]", description="Comma-separated types: indicator, phone-number, ..."
    )
    match_id: str | None = Field(default=None, alias="match[id]", description="Comma-separated object ids.")
    match_version: str | None = Field(
        default=None, alias="match[version]", description="first, last (default), all, or version timestamps."
    )
    match_spec_version: str | None = Field(default=None, alias="match[spec_version]", description="2.1")


class ObjectQuery(_Query):
    match_version: str | None = Field(
        default=None, alias="match[version]", description="first, last (default), all, or version timestamps."
    )
    match_spec_version: str | None = Field(default=None, alias="match[spec_version]", description="2.1")


class VersionsQuery(_Query):
    match_spec_version: str | None = Field(default=None, alias="match[spec_version]", description="2.1")


EXAMPLE_INDICATOR: dict[str, Any] = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10",
    "created": "2026-11-28T10:00:01.000Z",
    "modified": "2026-11-28T10:00:01.000Z",
    "name": "scam: +6281234567890",
    "description": "Impersonates a bank; 17 verified complaints",
    "pattern": "[phone-number:value = '+6281234567890']",
    "pattern_type": "stix",
    "pattern_version": "2.1",
    "valid_from": "2026-11-28T10:00:00Z",
    "valid_until": "2027-11-28T00:00:00Z",
    "labels": ["scam", "voice", "sms", "messaging"],
    "confidence": 90,
    "external_references": [
        {
            "source_name": "tangkal",
            "external_id": "8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10",
            "description": "the block record on the hub",
        }
    ],
    "extensions": {
        "extension-definition--7ce625b3-7cbc-4300-8586-55b2baf928a9": {
            "extension_type": "property-extension",
            "signed_record": {"record": {"id": "8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10", "...": "..."}, "signature": {}},
            "log_index": 41,
        }
    },
}
EXAMPLE_ENVELOPE: dict[str, Any] = {"more": True, "next": "NDIuMQ", "objects": [EXAMPLE_INDICATOR]}
EXAMPLE_MANIFEST: dict[str, Any] = {
    "more": False,
    "next": "NDIuMQ",
    "objects": [
        {
            "id": "indicator--8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10",
            "date_added": "2026-11-28T10:00:01.000Z",
            "version": "2026-11-28T10:00:01.000Z",
            "media_type": "application/stix+json;version=2.1",
        }
    ],
}
EXAMPLE_VERSIONS: dict[str, Any] = {
    "more": False,
    "versions": ["2026-11-28T10:00:01.000Z", "2026-11-30T08:12:40.250Z"],
}
