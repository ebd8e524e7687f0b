"""Recorded traffic: reading HAR files, vcrpy cassettes and Azure SDK recordings into exchanges, and matching each
exchange to the spec operation it exercised (formats.read, matching.match). Judging them is a later layer's job.

Sits above checks/ and report/ (whose checks it feeds) and below the CLI; it never imports the reference.
"""
