"""Which pixels count and what they measure: DQ flags, exclusions, the sky statistic, overlap statistics."""
