//! Integration tests of segauge-report.
