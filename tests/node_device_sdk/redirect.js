// Preload (`node -r ./redirect.js script.js`): each https request the device SDK makes goes as plain http to the
// 127.0.0.1 port its host name is mapped to, so the hub's requests reach the served reference and the blob upload
// reaches the storage emulator (Azurite). The SDK's code is not changed: azure-iot-http-base and node-fetch (under
// @azure/storage-blob) look `request` up on the `https` module at each call, so replacing it here reaches them.
//
// IOTHUB_REDIRECT is a comma-separated map `HOST=127.0.0.1:PORT`, HOST a host name or `name:port` (the more precise
// entry wins), e.g. `conformance-hub.azure-devices.net=127.0.0.1:8080,127.0.0.1:10000=127.0.0.1:10000`. A request to a
// host the map does not name fails as an unreachable host would, and never leaves the machine.
// With IOTHUB_REDIRECT_LOG=FILE each request is also appended to FILE as one JSON line {method, host, path}, a `sig=`
// value in the path replaced: what the SDK asked for, to hold the server's recording against.
// The connection string's HostName stays the hub's name: the SAS tokens the SDK signs are the ones it would send to
// the real service. Only the connection changes: host, port, and no https agent or TLS options (http refuses them).
'use strict';

const http = require('http');
const https = require('https');
const net = require('net');
const fs = require('fs');

function parse(text) {
  const map = new Map();
  for (const entry of text.split(',')) {
    const match = /^([A-Za-z0-9.-]+(?::[0-9]{1,5})?)=127\.0\.0\.1:([0-9]{1,5})$/.exec(entry);
    if (!match) return null;
    map.set(match[1].toLowerCase(), Number(match[2]));
  }
  return map;
}

const setting = process.env.IOTHUB_REDIRECT || '';
const routes = parse(setting);
if (!routes) {
  process.stderr.write('redirect.js: IOTHUB_REDIRECT must be HOST=127.0.0.1:<port>[,HOST=127.0.0.1:<port>…], not '
                       + `${JSON.stringify(setting)}\n`);
  process.exit(2);
}

function fromUrl(url) {
  const u = url instanceof URL ? url : new URL(url);
  return { hostname: u.hostname, port: u.port, path: u.pathname + u.search };
}

function portOf(options) {
  const name = String(options.hostname || options.host || '').toLowerCase().replace(/:[0-9]+$/, '');
  const port = options.port ? `:${options.port}` : '';
  if (routes.has(name + port)) return routes.get(name + port);
  return routes.get(name);
}

const log = process.env.IOTHUB_REDIRECT_LOG || '';

function logged(options) {
  if (!log) return;
  const path = String(options.path || '/').replace(/(sig=)[^&]*/gi, '$1<redacted>');
  const host = String(options.hostname || options.host || '') + (options.port ? `:${options.port}` : '');
  const line = { method: options.method || 'GET', host: host, path: path };
  fs.appendFileSync(log, JSON.stringify(line) + '\n');
}

function redirected(options) {
  const copy = Object.assign({}, options);
  const port = portOf(copy);
  logged(copy);
  delete copy.agent; // an https.Agent makes http.request throw ERR_INVALID_PROTOCOL
  for (const tls of ['cert', 'key', 'passphrase', 'ca', 'pfx', 'clientCertEngine']) delete copy[tls];
  copy.protocol = 'http:';
  if (port === undefined) {
    // No route: the request fails the way an unreachable host does, through the request's 'error' event.
    const name = String(options.hostname || options.host || '');
    copy.createConnection = () => {
      const socket = new net.Socket();
      process.nextTick(() => socket.destroy(new Error(`redirect.js: no route for host ${name}`)));
      return socket;
    };
    return copy;
  }
  copy.host = '127.0.0.1';
  copy.hostname = '127.0.0.1';
  copy.port = port;
  return copy;
}

function asOptions(options) {
  return typeof options === 'string' || options instanceof URL ? fromUrl(options) : options;
}

https.request = function request(options, callback) {
  if (typeof callback !== 'function' && arguments.length > 2) {
    // request(url, options, callback): fold the URL into the options.
    return http.request(redirected(Object.assign(asOptions(options), arguments[1])), arguments[2]);
  }
  if (typeof callback !== 'function' && callback && typeof callback === 'object') {
    return http.request(redirected(Object.assign(asOptions(options), callback)));
  }
  return http.request(redirected(asOptions(options)), callback);
};
https.get = function get(options, callback) {
  const req = https.request.apply(null, arguments);
  req.end();
  return req;
};
