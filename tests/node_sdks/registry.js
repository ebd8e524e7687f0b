// The service SDK of api-version 2016-02-03 (azure-iothub 1.0.7), public API only: create, get, update, list and
// delete one device identity. Run as `node -r ./redirect.js registry.js` with IOTHUB_CONNECTION_STRING (a policy with
// RegistryRead and RegistryWrite), IOTHUB_REDIRECT (127.0.0.1:<port>) and optionally IOTHUB_DEVICE_ID.
'use strict';

const iothub = require('azure-iothub');
const { Steps, required } = require('./steps.js');

const steps = new Steps('registry', 5, 30);
const registry = iothub.Registry.fromConnectionString(required('IOTHUB_CONNECTION_STRING'));
const deviceId = process.env.IOTHUB_DEVICE_ID || `node-registry-${Date.now()}`;
const reason = 'disabled by the 2016-02-03 Node.js registry';

function create() {
  steps.start('create');
  // As the SDK's own sample does: a new Device(null) carries the SDK's defaults (status 'Enabled', no keys).
  const device = new iothub.Device(null);
  device.deviceId = deviceId;
  registry.create(device, (err, created, response) => {
    if (err) return steps.failed('create', err, response);
    const keys = created.authentication && created.authentication.SymmetricKey;
    steps.check('create', response, created.deviceId === deviceId && keys && keys.primaryKey && keys.secondaryKey,
      'the created device is not the one asked for, or has no generated keys');
    get();
  });
}

function get() {
  steps.start('get');
  registry.get(deviceId, (err, device, response) => {
    if (err) return steps.failed('get', err, response);
    steps.check('get', response, device.deviceId === deviceId && String(device.status).toLowerCase() === 'enabled',
      `got ${device.deviceId} with status ${device.status}`);
    update(device);
  });
}

function update(device) {
  steps.start('update');
  // The Device the SDK returned, changed through its own setters and sent back whole.
  device.status = 'Disabled';
  device.statusReason = reason;
  registry.update(device, (err, updated, response) => {
    if (err) return steps.failed('update', err, response);
    steps.check('update', response,
      updated && String(updated.status).toLowerCase() === 'disabled' && updated.statusReason === reason,
      `the update answered status ${updated && updated.status}, statusReason ${updated && updated.statusReason}`);
    list();
  });
}

function list() {
  steps.start('list');
  registry.list((err, devices, response) => {
    if (err) return steps.failed('list', err, response);
    const found = (devices || []).filter((d) => d.deviceId === deviceId);
    steps.check('list', response, found.length === 1, `${deviceId} is listed ${found.length} times`);
    remove();
  });
}

function remove() {
  steps.start('delete');
  registry.delete(deviceId, (err, ignored, response) => {
    if (err) return steps.failed('delete', err, response);
    steps.check('delete', response, response && response.statusCode === 204, 'delete did not answer 204');
    steps.finish();
  });
}

create();
