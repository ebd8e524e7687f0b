"""Requirements of api-version 2021-04-12 (rules/requirements.py joins them into the registry):
device-side file upload (SAS URI, blob, completion notification)."""

from __future__ import annotations

from .requirement import V2021_RELEASE, Requirement

_FU = "docs/sources/iot-hub-devguide-file-upload__2021-07-30_0238602a.md"
_ERR = "docs/sources/troubleshoot-error-codes__2022-04-04_61992a0a.md"
_QT = "docs/sources/iot-hub-devguide-quotas-throttling__2023-02-09_e0310978.md"
_LEARN = "docs/sources/rest-reference-device-group__learn-summary.md"
_SAS = "docs/sources/iot-hub-dev-guide-sas__2022-04-28_583ac50d.md"
_INV = "docs/sources/INVENTORY-2021-04-12.md"
_SAS_URI = ("Device_CreateFileUploadSasUri",)
_NOTIFY = ("Device_UpdateFileUploadStatus",)
_PATH_NOTIFY = ("Device_UpdateFileUploadStatusOfCorrelationId",)
_ALL = _SAS_URI + _NOTIFY + _PATH_NOTIFY


def _r(rid: str, statement: str, source: str, operations: tuple[str, ...], rule: str | None = None,
       level: str = "MUST") -> Requirement:
    return Requirement(rid, level, statement, source, operations=operations, since=V2021_RELEASE, profile_rule=rule)


REQUIREMENTS: list[Requirement] = [
    _r("FILE-SAS-001",
       "POST /devices/{id}/files with {blobName} answers 200 with correlationId, hostName, containerName, blobName "
       "= \"{deviceId}/{blobName asked for}\" and a sasToken that starts with '?'.",
       f"{_FU} (Device: Initialize a file upload); {_LEARN} (Device – Create File Upload Sas Uri); {_INV} §3.4",
       _SAS_URI),
    _r("FILE-SAS-002",
       "The SAS URI https://{hostName}/{containerName}/{blobName}{sasToken} takes a Put Blob of a block blob (201) "
       "and reads back what was put (the token grants read/write access on the blob).",
       f"{_FU} (Device: Initialize a file upload: sasToken; Device: Upload file using Azure Storage APIs)", _SAS_URI),
    _r("FILE-SAS-003",
       "The sasToken is specific to the blob it was asked for: the same token does not write another blob of the "
       "container.",
       f"{_FU} (File upload overview: a storage token that is specific to the file the device wishes to upload; "
       "the sample token's sr=b)", _SAS_URI),
    _r("FILE-NOTIFY-001",
       "POST /devices/{id}/files/notifications with the correlationId of an upload and isSuccess answers 204.",
       f"{_FU} (Device: Notify IoT Hub of a completed file upload); {_LEARN} (Device – Update File Upload Status: "
       f"204); {_INV} §10 (C15)", _NOTIFY),
    _r("FILE-NOTIFY-002",
       "A correlation id completes one upload only: a second completion notification with it is refused (4xx).",
       f"{_FU} (Device: Notify IoT Hub of a completed file upload: the hub releases the upload's resources); "
       "docs/sources/service-2021-04-12.json (DeviceRegistryOperationError.errorCode: InvalidFileUploadCorrelationId)",
       _NOTIFY),
    _r("FILE-NOTIFY-003",
       "A completion notification naming a correlation id the hub never gave the device is refused (4xx).",
       "docs/sources/service-2021-04-12.json (DeviceRegistryOperationError.errorCode: InvalidFileUploadCorrelationId); "
       f"{_FU} (the correlation ID received in the initial SAS URI request)", _NOTIFY),
    _r("FILE-NOTIFY-004",
       "POST /devices/{id}/files/notifications/{correlationId} (the id URL-encoded in the path, left out of the "
       "body), as the official Node.js device SDK sends it, completes the upload as the documented path does (2xx).",
       f"{_INV} §3.4 (Notify completion, variant), §10 (C14); docs/sources/SDKS.md", _PATH_NOTIFY,
       rule="file_notify_path"),
    _r("FILE-LIMIT-001",
       "A device has at most 10 file uploads open: the 11th SAS URI request is refused with 403 "
       "DeviceMaximumActiveFileUploadLimitExceeded, and a completion makes room for another.",
       f"{_FU} (each device is limited to ten concurrent file uploads); {_QT} (Other limits: 10 concurrent file "
       f"uploads per device); {_ERR} (403006); docs/sources/INVENTORY.md §4b (403006: 403)", _SAS_URI + _NOTIFY),
    _r("FILE-TTL-001",
       "An upload the device never completes stops counting towards its 10 once its SAS URI's time-to-live (the "
       "token's se) has passed.",
       f"{_FU} (without a notification, IoT Hub maintains the resources until the SAS URI TTL expires); {_ERR} "
       "(403006: reduce the SAS token TTL)", _SAS_URI),
    _r("FILE-NOTICE-001",
       "A successful completion makes one file-upload notification for the service side naming the device, the "
       "blob's name and URI, and the blob's size.",
       f"{_FU} (Service: File upload notifications; enableFileUploadNotifications default True); {_INV} §3.4",
       _NOTIFY),
    _r("FILE-AUTH-001",
       "File upload needs DeviceConnect for that device: another device's token is refused with 401 and opens no "
       "upload.",
       f"{_SAS} (DeviceConnect: file upload from a device; a device token grants DeviceConnect for its own device "
       f"identity only); {_INV} §1.3", _ALL),
]
