// File upload with the device SDK of api-version 2021-04-12 (azure-iot-device 1.18.4 over azure-iot-device-http
// 1.14.4), public API only, both ways it offers:
//   upload-to-blob: client.uploadToBlob(name, stream, length), which asks the hub for a SAS URI, uploads the blob
//                   with @azure/storage-blob and notifies the hub, all inside the SDK;
//   get-sas, put-blob, notify: client.getBlobSharedAccessSignature(name), the upload by the application (as the SDK's
//                   own upload sample does it, with @azure/storage-blob's BlockBlobClient), then
//                   client.notifyBlobUploadStatus(correlationId, true, 201, …).
// Run as `node -r ./redirect.js upload.js` with IOTHUB_DEVICE_CONNECTION_STRING and IOTHUB_REDIRECT mapping both the
// hub's host name and the storage host the hub hands out (see redirect.js). The blobs' names and contents are fixed
// (UPLOADS below; tests/support/node_device_sdk.py reads them back from the storage).
'use strict';

const { Readable } = require('stream');
const { clientFromConnectionString } = require('azure-iot-device-http');
const { AnonymousCredential, BlockBlobClient, newPipeline } = require('@azure/storage-blob');
const { Steps, required } = require('../node_sdks/steps.js');

const steps = new Steps('device-http-upload', 4, 30);
const client = clientFromConnectionString(required('IOTHUB_DEVICE_CONNECTION_STRING'));
const UPLOADS = {
  whole: { name: 'node-sdk/upload-to-blob.txt', text: 'a file uploaded by client.uploadToBlob of the Node.js device SDK' },
  steps: { name: 'node-sdk/step-by-step.txt', text: 'a file uploaded between getBlobSharedAccessSignature and notify' },
};
const FIELDS = ['correlationId', 'hostName', 'containerName', 'blobName', 'sasToken'];

function uploadToBlob() {
  steps.start('upload-to-blob');
  const data = Buffer.from(UPLOADS.whole.text);
  // The SDK calls back with no argument when the upload and the notification both succeeded.
  client.uploadToBlob(UPLOADS.whole.name, Readable.from([data]), data.length, (err) => {
    if (err) return steps.failed('upload-to-blob', err.innerError || err, (err.innerError || err).response);
    steps.passedStep('upload-to-blob', null);
    getSas();
  });
}

function getSas() {
  steps.start('get-sas');
  client.getBlobSharedAccessSignature(UPLOADS.steps.name, (err, info) => {
    if (err) return steps.failed('get-sas', err, err.response);
    const missing = FIELDS.filter((field) => typeof (info && info[field]) !== 'string' || !info[field]);
    const ok = missing.length === 0 && info.blobName.endsWith(UPLOADS.steps.name) && info.sasToken.startsWith('?');
    steps.check('get-sas', null, ok, `the SAS answer lacks or misforms: ${missing.join(', ') || 'blobName or sasToken'}`);
    if (ok) putBlob(info);
  });
}

function putBlob(info) {
  steps.start('put-blob');
  const url = `https://${info.hostName}/${info.containerName}/${info.blobName}${info.sasToken}`;
  const blob = new BlockBlobClient(url, newPipeline(new AnonymousCredential(), { retryOptions: { maxTries: 1 } }));
  blob.upload(UPLOADS.steps.text, Buffer.byteLength(UPLOADS.steps.text))
    .then((response) => {
      const status = response._response && response._response.status;
      steps.check('put-blob', { statusCode: status }, status === 201, `the blob upload answered ${status}`);
      if (status === 201) notify(info.correlationId, status);
    })
    .catch((err) => steps.failed('put-blob', err, { statusCode: err.statusCode }));
}

function notify(correlationId, status) {
  steps.start('notify');
  client.notifyBlobUploadStatus(correlationId, true, status, 'uploaded by the conformance harness', (err) => {
    if (err) return steps.failed('notify', err, err.response);
    steps.passedStep('notify', null);
    steps.finish();
  });
}

uploadToBlob();
