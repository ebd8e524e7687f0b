// The device SDK of api-version 2021-04-12 over HTTP (azure-iot-device 1.18.4 with azure-iot-device-http 1.14.4),
// public API only: send an event and a batch of two, then receive cloud-to-device messages and complete, abandon and
// reject them. Run as `node -r ./redirect.js device.js` with IOTHUB_DEVICE_CONNECTION_STRING
// (HostName=…;DeviceId=…;SharedAccessKey=…) and IOTHUB_REDIRECT (see redirect.js), after two messages were enqueued
// for the device, in this order:
//   IoTHub-MessageId c2d-1: received and completed;
//   IoTHub-MessageId c2d-2: received and abandoned, received again (the abandon put it back) and rejected.
// Each step passes only on what the SDK's own objects say: the result object's class and its transport response.
'use strict';

const { clientFromConnectionString } = require('azure-iot-device-http');
const { Message } = require('azure-iot-device');
const { results } = require('azure-iot-common');
const { Steps, required } = require('../node_sdks/steps.js');

const steps = new Steps('device-http', 8, 30);
const client = clientFromConnectionString(required('IOTHUB_DEVICE_CONNECTION_STRING'));
const EVENT = 'telemetry from the 2021-04-12 Node.js device SDK';
// Each 39 bytes long: base64 without padding, which the recording's redaction takes for no key (a key's base64 is padded).
const BATCH = ['batch event 1 of the Node.js device SDK', 'batch event 2 of the Node.js device SDK'];
// What each settlement's result must be: the SDK answers a 2xx with one of these, anything else with an error.
const SETTLED = { complete: results.MessageCompleted, abandon: results.MessageAbandoned, reject: results.MessageRejected };
// The receiver polls once a second and only logs a failed poll (the client emits no error for it): a message not
// there within this many seconds (IOTHUB_RECEIVE_SECONDS, default 10) fails its step rather than wait out the run's limit.
const RECEIVE_SECONDS = Number(process.env.IOTHUB_RECEIVE_SECONDS) || 10;
let deliveries = 0;
let waiting = null;

function awaitMessage(step) {
  steps.start(step);
  clearTimeout(waiting);
  waiting = setTimeout(() => steps.record({ step: step, ok: false, status: null,
    error: `no message within ${RECEIVE_SECONDS} s (the SDK logs a failed poll and polls again)` }), RECEIVE_SECONDS * 1000);
}

function transportStatus(result) {
  return result && result.transportObj;
}

function answered(step, result, kind, status) {
  const response = transportStatus(result);
  const ok = result instanceof kind && Boolean(response) && response.statusCode === status;
  steps.check(step, response, ok, `expected ${kind.name} with ${status}, got ${result && result.constructor.name}`);
  return ok;
}

function settle(step, action, message, next) {
  steps.start(step);
  client[action](message, (err, result) => {
    if (err) return steps.failed(step, err);
    if (answered(step, result, SETTLED[action], 204)) next();
  });
}

function received(step, message, id) {
  const ok = message.messageId === id && String(message.getData()) === `message ${id}` && Boolean(message.lockToken);
  steps.check(step, null, ok, `got message ${message.messageId} (${String(message.getData()).slice(0, 60)})`);
  return ok;
}

function onMessage(message) {
  clearTimeout(waiting);
  deliveries += 1;
  if (deliveries === 1) {
    if (received('receive-1', message, 'c2d-1')) settle('complete', 'complete', message, () => awaitMessage('receive-2'));
  } else if (deliveries === 2) {
    if (received('receive-2', message, 'c2d-2')) settle('abandon', 'abandon', message, () => awaitMessage('receive-2-again'));
  } else if (deliveries === 3) {
    if (received('receive-2-again', message, 'c2d-2')) settle('reject', 'reject', message, () => steps.finish());
  }
}

function receive() {
  awaitMessage('receive-1');
  // One message a poll, once a second: the deliveries then come one after another in a fixed order.
  client.setOptions({ http: { receivePolicy: { interval: 1, drain: false } } }, (err) => {
    if (err) return steps.failed('receive-1', err);
    client.on('error', (error) => steps.failed(steps.current || 'receive', error));
    client.on('message', onMessage);
  });
}

function event(text, id, index) {
  const message = new Message(text);
  message.messageId = id;
  message.properties.add('sequence', String(index));
  return message;
}

function sendBatch() {
  steps.start('send-batch');
  client.sendEventBatch(BATCH.map((text, i) => event(text, `d2c-batch-${i + 1}`, i + 1)), (error, result) => {
    if (error) return steps.failed('send-batch', error);
    if (answered('send-batch', result, results.MessageEnqueued, 204)) receive();
  });
}

steps.start('send-event');
client.open((err) => {
  if (err) return steps.failed('send-event', err);
  client.sendEvent(event(EVENT, 'd2c-1', 0), (error, result) => {
    if (error) return steps.failed('send-event', error);
    if (answered('send-event', result, results.MessageEnqueued, 204)) sendBatch();
  });
});
