// The device SDK of api-version 2016-02-03 over HTTP (azure-iot-device 1.0.8 with azure-iot-device-http 1.0.9), public
// API only: send an event, then receive cloud-to-device messages and complete, abandon and reject them. Run as
// `node -r ./redirect.js device.js` with IOTHUB_DEVICE_CONNECTION_STRING (HostName=…;DeviceId=…;SharedAccessKey=…) and
// IOTHUB_REDIRECT (127.0.0.1:<port>), after two messages were enqueued for the device, in this order:
//   IoTHub-MessageId c2d-1: received and completed;
//   IoTHub-MessageId c2d-2: received and abandoned, received again (the abandon put it back) and rejected.
'use strict';

const { clientFromConnectionString } = require('azure-iot-device-http');
const { Message } = require('azure-iot-device');
const { Steps, required } = require('./steps.js');

const steps = new Steps('device-http', 7, 30);
const client = clientFromConnectionString(required('IOTHUB_DEVICE_CONNECTION_STRING'));
const EVENT = 'telemetry from the 2016-02-03 Node.js device SDK';
let deliveries = 0;

function transportStatus(result) {
  return result && result.transportObj;
}

function settle(step, action, message, next) {
  steps.start(step);
  client[action](message, (err, result) => {
    if (err) return steps.failed(step, err);
    const response = transportStatus(result);
    steps.check(step, response, response && response.statusCode === 204, `${action} did not answer 204`);
    next();
  });
}

function received(step, message, id) {
  const ok = message.messageId === id && String(message.getData()) === `message ${id}` && Boolean(message.lockToken);
  steps.check(step, null, ok, `got message ${message.messageId} (${String(message.getData()).slice(0, 60)})`);
  return ok;
}

function onMessage(message) {
  deliveries += 1;
  if (deliveries === 1) {
    if (received('receive-1', message, 'c2d-1')) settle('complete', 'complete', message, () => steps.start('receive-2'));
  } else if (deliveries === 2) {
    if (received('receive-2', message, 'c2d-2')) settle('abandon', 'abandon', message, () => steps.start('receive-2-again'));
  } else if (deliveries === 3) {
    if (received('receive-2-again', message, 'c2d-2')) settle('reject', 'reject', message, () => steps.finish());
  }
}

function receive() {
  steps.start('receive-1');
  // One message a poll, once a second: the deliveries then come one after another in a fixed order.
  client.setOptions({ http: { receivePolicy: { interval: 1, drain: false } } }, (err) => {
    if (err) return steps.failed('receive-1', err);
    client.on('error', (error) => steps.failed(steps.current || 'receive', error));
    client.on('message', onMessage);
  });
}

steps.start('send-event');
client.open((err) => {
  if (err) return steps.failed('send-event', err);
  client.sendEvent(new Message(EVENT), (error, result) => {
    if (error) return steps.failed('send-event', error);
    const response = transportStatus(result);
    steps.check('send-event', response, response && response.statusCode === 204, 'the event was not answered 204');
    receive();
  });
});
