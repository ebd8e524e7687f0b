"""Reports: redaction, the per-requirement summary, the files a run writes."""
