"""The RFC 7232 §2.3 entity-tag, written once: `entity-tag = [ weak ] opaque-tag`, `weak = %x57.2F ; "W/"`,
`opaque-tag = DQUOTE *etagc DQUOTE`, `etagc = %x21 / %x23-7E / obs-text` (obs-text = %x80-FF).
The checks judge ETag headers with it, the reference parses If-Match with it, and specs/2016-02-03/common.yaml
carries the same pattern for its ETag header (tests/test_specs.py holds them equal)."""

ETAGC = r"[\x21\x23-\x7E\x80-\xFF]"
ENTITY_TAG = rf'(W/)?"{ETAGC}*"'
