// One JSON line per step ({step, ok, status | error}), a last line "<name>: N of M steps passed", and an exit code:
// 0 when every step passed, 1 when one failed or the run took longer than its time limit. Nothing secret is printed:
// only step names, statuses and error messages (never a key, a token or a body the SDK was given), and an error message
// that quotes a URL or a header has any signature, SAS token or key in it replaced (a storage error quotes the blob's
// SAS URI).
'use strict';

const SECRETS = [
  [/(sig=)[^&\s"']+/gi, '$1<redacted>'],
  [/SharedAccessSignature [^\s"',]+/g, 'SharedAccessSignature <redacted>'],
  [/(SharedAccessKey=)[^;\s"']+/gi, '$1<redacted>'],
];

function scrub(text) {
  return SECRETS.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), String(text));
}

function Steps(name, planned, limitSeconds) {
  this.name = name;
  this.planned = planned;
  this.passed = 0;
  this.done = [];
  this.finished = false;
  // Bounded in time: a request that never returns, or a message that never comes, ends the script.
  this.timer = setTimeout(() => this.finish(`timed out after ${limitSeconds} s`), limitSeconds * 1000);
  // An SDK that throws inside its own callback (the 2016 list parses any body as an array) fails the step it was in.
  process.on('uncaughtException', (err) => {
    const step = this.current || 'run';
    this.record({ step: step, ok: false, status: null, error: `the SDK threw: ${scrub(err && err.message).slice(0, 300)}` });
    this.finish();
  });
}

// The step now waiting on the SDK, named so that an exception thrown inside the SDK is blamed on it.
Steps.prototype.start = function (step) {
  this.current = step;
};

Steps.prototype.status = function (response) {
  return response && typeof response.statusCode === 'number' ? response.statusCode : null;
};

// An SDK callback's error: its message, and the HTTP status when the SDK attached the response.
Steps.prototype.failed = function (step, err, response) {
  const status = this.status(response || (err && err.response));
  this.record({ step: step, ok: false, status: status, error: scrub((err && err.message) || err).slice(0, 300) });
};

Steps.prototype.passedStep = function (step, response, detail) {
  const line = { step: step, ok: true, status: this.status(response) };
  if (detail) line.detail = detail;
  this.record(line);
};

// ok only when `condition` holds: the SDK answered without an error AND what it returned is what the step expects.
Steps.prototype.check = function (step, response, condition, problem) {
  if (condition) {
    this.passedStep(step, response);
  } else {
    this.record({ step: step, ok: false, status: this.status(response), error: problem });
  }
};

Steps.prototype.record = function (line) {
  if (this.finished) return;
  this.done.push(line.step);
  if (line.ok) this.passed += 1;
  if (line.error) line.error = scrub(line.error);
  process.stdout.write(JSON.stringify(line) + '\n');
  if (!line.ok) this.finish();
};

Steps.prototype.finish = function (reason) {
  if (this.finished) return;
  this.finished = true;
  clearTimeout(this.timer);
  if (reason) process.stdout.write(JSON.stringify({ step: 'run', ok: false, status: null, error: reason }) + '\n');
  process.stdout.write(`${this.name}: ${this.passed} of ${this.planned} steps passed\n`);
  // The device client renews its token on a 45-minute timer: leave now rather than wait for it.
  process.exit(this.passed === this.planned ? 0 : 1);
};

function required(name) {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`${name} is not set\n`);
    process.exit(2);
  }
  return value;
}

module.exports = { Steps: Steps, required: required, scrub: scrub };
