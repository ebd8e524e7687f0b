// Preload (`node -r ./redirect.js script.js`): every https request the SDKs make goes as plain http to the served
// reference named by IOTHUB_REDIRECT (127.0.0.1:<port>). The SDKs call `require('https').request({host: HostName, …})`
// and look `request` up on the module at each call, so replacing it here reaches them without patching their code.
// The connection string's HostName stays the hub's name: the SAS tokens the SDKs sign are the ones they would send to
// the real service. Only the connection changes: host, port, and no https agent (http refuses one).
'use strict';

const http = require('http');
const https = require('https');

const target = process.env.IOTHUB_REDIRECT || '';
const match = /^127\.0\.0\.1:([0-9]{1,5})$/.exec(target);
if (!match) {
  process.stderr.write(`redirect.js: IOTHUB_REDIRECT must be 127.0.0.1:<port>, not ${JSON.stringify(target)}\n`);
  process.exit(2);
}
const port = Number(match[1]);

function fromUrl(url) {
  const u = url instanceof URL ? url : new URL(url);
  return { path: u.pathname + u.search };
}

function redirected(options) {
  const copy = Object.assign({}, typeof options === 'string' || options instanceof URL ? fromUrl(options) : options);
  delete copy.agent; // an https.Agent makes http.request throw ERR_INVALID_PROTOCOL
  for (const tls of ['cert', 'key', 'passphrase', 'ca', 'pfx']) delete copy[tls];
  copy.protocol = 'http:';
  copy.host = '127.0.0.1';
  copy.hostname = '127.0.0.1';
  copy.port = port;
  return copy;
}

https.request = function request(options, callback) {
  if (typeof callback !== 'function' && arguments.length > 2) {
    // request(url, options, callback): fold the URL into the options.
    return http.request(redirected(Object.assign(fromUrl(options), arguments[1])), arguments[2]);
  }
  return http.request(redirected(options), callback);
};
https.get = function get(options, callback) {
  const req = https.request(options, callback);
  req.end();
  return req;
};
