"""Certification: a run that a vendor submits. It names the product, refuses a MUST requirement skipped for a reason
the profile does not give, and seals the bundle with a digest of every file in it.

A skip the profile allows is one the profile decides: its reason starts "profile <name> …" (the profile takes no
position on the rule, or its dialect has no such operation). Any other skip of a MUST requirement (no feeder, no blob
container, no --rp-url, a clock only the embedded reference has) means the endpoint was not fully tested. An
incomplete run (interrupted, the run deadline, a collection error, no tests) is never conformant: its verdict is
"incomplete", whatever it reached.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from iothub_conformance.config import ConfigError

from .bundle import incompleteness, not_reached, read

FIELDS = ("vendor", "product", "version", "endpoint")
PRODUCT_FILE = "product.json"
CERTIFICATION_FILE = "certification.json"
DIGEST_FILE = "SHA256SUMS"


def template(endpoint: str = "") -> dict:
    return {"vendor": "", "product": "", "version": "", "endpoint": endpoint,
            "notes": "Fill in vendor, product and version; endpoint is the URL under test."}


def read_product(path: Path) -> dict:
    """The product description the user filled in: every field a non-empty string."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--product {path}: no such file") from None
    except (ValueError, UnicodeDecodeError, IsADirectoryError) as exc:
        raise ConfigError(f"--product {path}: not a JSON file ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"--product {path}: a JSON object with {', '.join(FIELDS)} is expected")
    empty = [name for name in FIELDS if not isinstance(data.get(name), str) or not data[name].strip()]
    if empty:
        raise ConfigError(f"--product {path}: fill in {', '.join(empty)}")
    return data


def start(product: str | None, endpoint: str, here: Path) -> dict:
    """Check the product file before the run; without one, leave a template to fill in (never over a file)."""
    if product:
        return read_product(Path(product))
    example = here / PRODUCT_FILE
    if not example.exists():
        example.write_text(json.dumps(template(endpoint), indent=2) + "\n", encoding="utf-8")
        raise ConfigError(f"--certify needs --product FILE: fill in the template written to {example} and run again")
    raise ConfigError(f"--certify needs --product FILE (e.g. --product {example})")


@dataclass
class Certification:
    profile: str
    api_version: str
    must: dict[str, int] = field(default_factory=dict)
    refused: list[dict] = field(default_factory=list)  # MUST requirements skipped for a reason the profile does not give
    incomplete: str | None = None  # why the run is incomplete
    unreached: list[str] = field(default_factory=list)  # MUST requirements the incomplete run did not reach

    @property
    def verdict(self) -> str:
        if self.incomplete:
            return "incomplete"
        if self.refused:
            return "refused"
        return "conformant" if self.must.get("fail", 0) == 0 and self.must.get("error", 0) == 0 else "not conformant"


def judge(results: dict) -> Certification:
    profile = results.get("profile") or ""
    allowed = f"profile {profile} "
    certification = Certification(profile, results.get("api_version") or "", incomplete=incompleteness(results))
    counts = {"pass": 0, "fail": 0, "error": 0, "skip (profile)": 0, "skip (refused)": 0, "not reached": 0}
    for requirement in results.get("requirements", []):
        if requirement.get("level") != "MUST":
            continue
        status = requirement.get("status")
        if certification.incomplete and not_reached(requirement):
            counts["not reached"] += 1
            certification.unreached.append(requirement.get("id"))
        elif status == "skip":
            if str(requirement.get("detail", "")).startswith(allowed):
                counts["skip (profile)"] += 1
            else:
                counts["skip (refused)"] += 1
                certification.refused.append({"id": requirement["id"], "reason": requirement.get("detail", "")})
        elif status in counts:
            counts[status] += 1
    certification.must = counts
    return certification


def seal(bundle: Path) -> Path:
    """Write SHA256SUMS over every other file of the bundle, in the format `sha256sum -c` reads."""
    lines = []
    for path in sorted(p for p in bundle.rglob("*") if p.is_file() and p.name != DIGEST_FILE):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(bundle).as_posix()}")
    target = bundle / DIGEST_FILE
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def finish(bundle: Path, product: dict) -> Certification:
    """After the run: judge it, write the product and the verdict into the bundle, then seal it."""
    _, results = read(bundle)
    certification = judge(results)
    (bundle / PRODUCT_FILE).write_text(json.dumps(product, indent=2) + "\n", encoding="utf-8")
    record = {"verdict": certification.verdict, "incomplete": certification.incomplete,
              "profile": certification.profile,
              "api_version": certification.api_version, "run_id": results.get("run_id"),
              "suite": results.get("suite"), "target": results.get("target"), "must": certification.must,
              "refused_skips": certification.refused, "not_reached": certification.unreached}
    (bundle / CERTIFICATION_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    seal(bundle)
    return certification
