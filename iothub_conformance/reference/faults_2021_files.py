"""Fault switches of api-version 2021-04-12 (rows faults.py joins into its table): device-side file upload (SAS URI,
blob, completion notification)."""

from __future__ import annotations

from .fault_types import Fault, because  # noqa: F401  (because: for collateral rows that share one why)

TABLE: tuple[Fault, ...] = (
    # -- file_upload.py ----------------------------------------------------------------------------------------------
    Fault("file-upload-blob-name-unprefixed", "a SAS URI answer's blobName is the name asked for, without "
                                              "'{deviceId}/'", breaks=("FILE-SAS-001",)),
    Fault("file-upload-sas-for-another-blob", "the SAS a device gets is signed for the blob name it asked for, not for "
                                              "the blobName answered, so the upload is refused",
          breaks=("FILE-SAS-002",),
          collateral=because("errors: the upload through the SAS URI is refused (403), so what follows it shows "
                             "nothing", "FILE-NOTICE-001", "FILE-NOTIFY-001", "FILE-NOTIFY-002", "FILE-NOTIFY-004",
                             "FILE-SAS-003")),
    Fault("file-upload-container-wide-sas", "the SAS a device gets writes any blob of the container",
          breaks=("FILE-SAS-003",),
          collateral=(("FILE-TTL-001", "errors: the container's SAS names no se (expiry) to wait for"),)),
    Fault("file-upload-no-limit", "a device may have any number of file uploads open", breaks=("FILE-LIMIT-001",),
          collateral=(("FILE-TTL-001", "errors: the eleventh SAS URI request is served, so there is no refusal to see "
                                       "lifted"),)),
    Fault("file-upload-expired-uploads-kept", "an upload never notified counts towards the device's ten after its SAS "
                                              "has expired", breaks=("FILE-TTL-001",)),
    Fault("file-upload-correlation-reusable", "a correlation id stays open after its completion notification",
          breaks=("FILE-NOTIFY-002",),
          collateral=(
              ("FILE-NOTIFY-004", "after the completion in the path, the documented one with the same id is taken too"),
              ("FILE-LIMIT-001", "after one completion, the 11th SAS URI request is still refused: nothing was freed"),
              *because("errors: the generated completions free no upload, so the device reaches its 10 and no upload "
                       "can be opened for the next generated case", "COMMON-SPEC-001", "COMMON-REQID-001",
                       "COMMON-REQID-002"))),
    Fault("file-upload-unknown-correlation-accepted", "a completion notification naming an unknown correlation id "
                                                      "answers 204", breaks=("FILE-NOTIFY-003",),
          collateral=because("a second completion names an id the hub no longer holds, so it answers 204 too",
                             "FILE-NOTIFY-002", "FILE-NOTIFY-004")),
    Fault("file-upload-no-service-notification", "a successful completion makes no file-upload notification for the "
                                                 "service", breaks=("FILE-NOTICE-001",)),
    # -- routes_2021_files.py ----------------------------------------------------------------------------------------
    Fault("file-upload-notify-refused", "every completion notification answers 400", breaks=("FILE-NOTIFY-001",),
          generated_on=("Device_CreateFileUploadSasUri", "Device_UpdateFileUploadStatusOfCorrelationId"),
          collateral=(
              ("FILE-NOTIFY-002", "errors: the first completion is refused, so a refusal of the second shows nothing"),
              ("FILE-NOTIFY-004", "the completion at /files/notifications/{correlationId} is refused too"),
              ("FILE-NOTICE-001", "errors: no completion is served, so there is no notification to look for"),
              ("FILE-LIMIT-001", "errors: a completion could not free a slot"),
              ("FILE-AUTH-001", "the device's own completion after the refused ones is refused too"),
              ("DEVAUTH-DEVICE-001", "the completion signed with the device's own key is refused"),
              ("DEVAUTH-POLICY-001", "the completion signed with the DeviceConnect policy is refused"),
              *because("errors: the device's own completion, which shows the refusals mean something, is refused",
                       "DEVAUTH-OTHER-001", "DEVAUTH-POLICY-002", "DEVAUTH-EXPIRED-001"),
              *because("errors: the generated completions are refused, so the device reaches its 10 and no upload "
                       "can be opened for the next generated case", "COMMON-SPEC-001", "COMMON-REQID-001",
                       "COMMON-REQID-002"))),
    Fault("file-upload-path-notify-not-served", "POST /devices/{id}/files/notifications/{correlationId} answers 404",
          breaks=("FILE-NOTIFY-004",),
          collateral=(("FILE-AUTH-001", "the completion in the path answers 404 whatever the token, not 401"),)),
    Fault("file-upload-any-device-token", "a device's token requests SAS URIs and completes uploads of any device",
          breaks=("FILE-AUTH-001",),
          collateral=(("DEVAUTH-OTHER-001", "another device's token opens and completes this device's uploads"),)),
)
